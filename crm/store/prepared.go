package store

import (
	"database/sql/driver"
	"strings"
)

// Statements on the hot paths (a create, an interaction, an update) are
// marked to run as compiled statements on SQLite. bun writes every value
// into a statement's text, so SQLite would tokenise, parse and plan each
// one anew: for the customer's UPDATE of some fifty columns, or the
// matching UNION of an interaction, that costs more than running it. A
// statement that starts with preparedMarker (bun's Comment(preparedComment),
// or the text of a raw statement) has its values taken out again by the
// connection (markedArgs): the text with a placeholder for each value is
// the same for every call, so the connection's statement cache
// (sqlitestmts.go) compiles it once and runs it with the values as
// arguments. INSERTs need no mark (valuesArgs takes any INSERT's values).
//
// Only values that stand where any value could (after an operator, a
// comma or an opening parenthesis) become arguments: a value after a word
// stays in the text, so LIMIT 50, a LIKE pattern (whose literal SQLite's
// planner reads) and THEN 'x' keep compiling as before. A value that is
// an argument is unknown when SQLite plans, so a statement whose plan
// needs a value (a partial index's condition, street <> '') must not be
// marked; the mark is opt-in for that reason, and each marked statement
// is one the conformance suite runs.
//
// On PostgreSQL a marked statement is kept prepared as well, with only the
// values whose type the server can tell taken out (pgMarkedArgs,
// pgmarked.go); inside the store's write transactions its generic plan is
// reused.

// markedPlaceholder is what stands for a value taken out of a marked
// statement: a placeholder under a unary plus, which changes no value.
// The plus keeps the statement compiled. SQLite is built with STAT4
// (sqlite_stat4 holds samples of every analysed index), and when the
// planner reads those samples for a bare placeholder compared with an
// indexed column (org_id = ?, the first column of nearly every index),
// it marks the statement to be compiled again whenever that placeholder
// is bound: every run of a kept statement then parsed and planned it
// anew, as if it had not been kept. The planner does not look through
// the plus for samples, so it plans such a comparison from sqlite_stat1's
// averages, once; the index is used as before.
const markedPlaceholder = "+?"

// preparedComment is the comment that marks a bun query to be compiled
// once per SQLite connection.
const preparedComment = "prepared"

// preparedMarker is how a marked statement starts (bun's comment).
const preparedMarker = "/* " + preparedComment + " */ "

// markedArgs returns a marked statement with its values taken out, as ?
// placeholders and arguments (with the types SQLite gives the literals,
// as valuesArgs does); ok is false for a statement that is not marked,
// that has no value to take out, or that the scan does not fully read (a
// placeholder already there, a second statement), which then runs as
// written.
func markedArgs(query string) (string, []driver.NamedValue, bool) {
	if !strings.HasPrefix(query, preparedMarker) {
		return "", nil, false
	}
	var b strings.Builder
	b.Grow(len(query))
	var args []driver.NamedValue
	// prev is the last byte before the current token, spaces and comments
	// skipped: whether a value stands where an argument may.
	var prev byte
	copied := 0 // query[:copied] is in b
	// literal handles the value val at query[start:end]: an argument where
	// one may stand (false when there are too many), else left in the text.
	literal := func(start, end int, val any) bool {
		if !takesArgument(prev) {
			return true
		}
		if len(args) == sqliteMaxArgs {
			return false
		}
		b.WriteString(query[copied:start])
		b.WriteString(markedPlaceholder)
		args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: val})
		copied = end
		return true
	}
	for i := len(preparedMarker); i < len(query); {
		c := query[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			nl := strings.IndexByte(query[i:], '\n')
			if nl < 0 {
				i = len(query)
			} else {
				i += nl + 1
			}
			continue
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			end := strings.Index(query[i+2:], "*/")
			if end < 0 {
				return "", nil, false
			}
			i += 2 + end + 2
			continue
		case c == '"' || c == '`':
			end := skipQuoted(query, i)
			if end < 0 {
				return "", nil, false
			}
			i, prev = end, 'a'
			continue
		case c == '\'' || c >= '0' && c <= '9' || c == '.' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9':
			val, end, ok := literalAt(query, i)
			if !ok || !literal(i, end, val) {
				return "", nil, false
			}
			i, prev = end, 'a'
			continue
		case isIdentByte(c):
			if val, end, ok := wordLiteral(query, i); ok {
				// NULL, TRUE, FALSE or a blob: an argument where a value
				// may stand, so that a NULL or a new blob does not make
				// the text of a statement another one.
				if !literal(i, end, val) {
					return "", nil, false
				}
				i, prev = end, 'a'
				continue
			}
			j := i
			for j < len(query) && isIdentByte(query[j]) {
				j++
			}
			if j < len(query) && query[j] == '\'' {
				// Another prefixed literal stays as written.
				end := skipQuoted(query, j)
				if end < 0 {
					return "", nil, false
				}
				j = end
			}
			i, prev = j, 'a'
			continue
		case c == ';':
			if skipSpace(query, i+1) != len(query) {
				return "", nil, false
			}
			i++
			continue
		case c == '?' || c == ':' || c == '@' || c == '$':
			// A placeholder or a named parameter: the statement has its
			// own arguments.
			return "", nil, false
		}
		prev = c
		i++
	}
	if len(args) == 0 {
		return "", nil, false
	}
	b.WriteString(query[copied:])
	return b.String(), args, true
}

// wordLiteral reads the literal that is a word at query[i]: NULL, TRUE,
// FALSE (as literalAt reads them) or a blob X'0a'.
func wordLiteral(query string, i int) (any, int, bool) {
	if (query[i] == 'X' || query[i] == 'x') && i+1 < len(query) && query[i+1] == '\'' {
		return literalAt(query, i)
	}
	switch query[i] {
	case 'N', 'n', 'T', 't', 'F', 'f':
		return literalAt(query, i)
	}
	return nil, 0, false
}

// takesArgument reports whether a value after the byte prev stands where
// an argument may: after an operator, a comma or an opening parenthesis,
// not after a word (a keyword), a closing parenthesis or at the start.
func takesArgument(prev byte) bool {
	switch prev {
	case '=', '<', '>', '!', ',', '(', '+', '-', '*', '/', '|', '%':
		return true
	}
	return false
}

// heldWriteComment is the comment of an insert whose result no caller
// reads: on PostgreSQL the connection holds it back and sends it with the
// transaction's next statement (deferredComment, conn.go), on SQLite it
// runs on a compiled statement (preparedComment).
func (s *DB) heldWriteComment() string {
	if s.dialect.name == postgresDialect.name {
		return deferredComment
	}
	return preparedComment
}
