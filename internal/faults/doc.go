// Package faults holds the fault suite of the reference server: tests that
// build the real dossier binary, run it with serve on SQLite and on
// PostgreSQL, and hurt it while clients use it (kill -9 under writes,
// SIGTERM during mail delivery, PostgreSQL backends terminated, an
// outage, a long read load). The tests run only when DOSSIER_FAULTS is
// set: "short" for the versions CI runs (seconds each), "long" for the
// long ones. docs/reliability.md describes them and their figures.
package faults
