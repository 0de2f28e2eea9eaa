// Package diskblob keeps document contents as files under a directory: the
// default crm.BlobStore of the reference server. A key "org/sha256" is the
// file org/ab/abcdef... (the first two hex digits spread the files over
// directories). Writes go to a temporary file in the same directory, are
// synced, then renamed over the target, so a reader sees a whole file or
// none, also after a crash.
package diskblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"github.com/dossiercrm/dossier/crm"
)

// Store keeps blobs under Dir.
type Store struct {
	dir string
}

// New returns a store under dir, creating the directory.
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("diskblob: %w", err)
	}
	return &Store{dir: dir}, nil
}

var keyPattern = regexp.MustCompile(`^([a-z0-9][a-z0-9_-]*)/([0-9a-f]{64})$`)

// path maps a key to its file, refusing anything that is not a key: a key
// can never name a file outside the directory.
func (s *Store) path(key string) (string, error) {
	m := keyPattern.FindStringSubmatch(key)
	if m == nil {
		return "", fmt.Errorf("diskblob: %q is not a blob key", key)
	}
	return filepath.Join(s.dir, m[1], m[2][:2], m[2]), nil
}

// Put implements crm.BlobStore.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("diskblob: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".put-*")
	if err != nil {
		return fmt.Errorf("diskblob: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := io.Copy(tmp, readerWithContext{ctx, r}); err != nil {
		tmp.Close()
		return fmt.Errorf("diskblob: write %s: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("diskblob: sync %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("diskblob: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("diskblob: %w", err)
	}
	// The rename is durable once the directory is synced.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Open implements crm.BlobStore.
func (s *Store) Open(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("diskblob: %s: %w", key, crm.ErrNotFound)
	}
	return f, err
}

// Delete implements crm.BlobStore.
func (s *Store) Delete(_ context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("diskblob: %w", err)
	}
	return nil
}

// readerWithContext stops a long copy when the context ends.
type readerWithContext struct {
	ctx context.Context
	r   io.Reader
}

func (r readerWithContext) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
