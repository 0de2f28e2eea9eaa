// Package cloudblob keeps document contents in a gocloud.dev/blob bucket:
// a folder (fileblob, the reference server's default), memory (memblob, for
// tests) or object storage (S3, Google Cloud Storage, Azure Blob Storage),
// chosen by URL the way go-cloud opens buckets. It implements
// crm.BlobStore.
//
// A key "org/sha256" is the object org/ab/abcdef... (the first two hex
// digits spread a folder's files over directories, as Dossier's earlier
// on-disk store laid them out, so its files are found where they are).
// Anything that is not such a key is refused before the bucket sees it.
//
// A write is atomic: go-cloud makes an object visible only when its writer
// closes without error (fileblob writes a temporary file and renames it,
// object stores commit the upload), and a write whose context ends, or
// whose reader fails, is abandoned and leaves nothing behind. fileblob does
// not sync files to disk before the rename: a power failure right after a
// write may lose it, where a process crash does not.
package cloudblob

import (
	"context"
	"fmt"
	"io"
	"regexp"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/gcerrors"

	"github.com/dossiercrm/dossier/crm"
)

// Store keeps blobs in a bucket.
type Store struct {
	bucket *blob.Bucket
}

var _ crm.BlobStore = (*Store)(nil)

// New returns a store over bucket. Closing the bucket is the caller's.
func New(bucket *blob.Bucket) *Store { return &Store{bucket: bucket} }

// Open opens the bucket at urlstr ("file:///var/lib/dossier/blobs",
// "s3://bucket?region=eu-west-1", "gs://bucket", "azblob://container",
// "mem://") with blob.OpenBucket. file:// works always (this package
// imports fileblob; add "?no_tmp_dir=1&metadata=skip" to keep a folder as
// OpenDir does); for another scheme the program imports its driver
// (gocloud.dev/blob/s3blob, .../gcsblob, .../azureblob, .../memblob).
// Close the store when done.
func Open(ctx context.Context, urlstr string) (*Store, error) {
	b, err := blob.OpenBucket(ctx, urlstr)
	if err != nil {
		return nil, fmt.Errorf("cloudblob: %w", err)
	}
	return New(b), nil
}

// OpenDir opens a folder as the reference server keeps it: created if
// missing, temporary files beside their targets (so the final rename never
// crosses file systems) and no metadata files beside the contents.
func OpenDir(dir string) (*Store, error) {
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{CreateDir: true, NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
	if err != nil {
		return nil, fmt.Errorf("cloudblob: %w", err)
	}
	return New(b), nil
}

// Close closes the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

var keyPattern = regexp.MustCompile(`^([a-z0-9][a-z0-9_-]*)/([0-9a-f]{64})$`)

// objectKey maps a blob key to its object, refusing anything that is not a
// key: a key can never name an object outside its organisation's prefix.
func objectKey(key string) (string, error) {
	m := keyPattern.FindStringSubmatch(key)
	if m == nil {
		return "", fmt.Errorf("cloudblob: %q is not a blob key", key)
	}
	return m[1] + "/" + m[2][:2] + "/" + m[2], nil
}

// Put implements crm.BlobStore.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) error {
	obj, err := objectKey(key)
	if err != nil {
		return err
	}
	// Cancelling the writer's context before Close abandons the write.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, obj, &blob.WriterOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return fmt.Errorf("cloudblob: %w", err)
	}
	if _, err := io.Copy(w, readerWithContext{ctx, r}); err != nil {
		cancel()
		w.Close()
		return fmt.Errorf("cloudblob: write %s: %w", key, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("cloudblob: write %s: %w", key, err)
	}
	return nil
}

// Open implements crm.BlobStore.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	obj, err := objectKey(key)
	if err != nil {
		return nil, err
	}
	r, err := s.bucket.NewReader(ctx, obj, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, fmt.Errorf("cloudblob: %s: %w", key, crm.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("cloudblob: %w", err)
	}
	return r, nil
}

// Delete implements crm.BlobStore.
func (s *Store) Delete(ctx context.Context, key string) error {
	obj, err := objectKey(key)
	if err != nil {
		return err
	}
	if err := s.bucket.Delete(ctx, obj); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("cloudblob: %w", err)
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
