package cloudblob_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"gocloud.dev/blob/memblob"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/cloudblob"
)

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// eachBucket runs fn on a store over memory and over a folder; dir is the
// folder, or empty for memory.
func eachBucket(t *testing.T, fn func(t *testing.T, s *cloudblob.Store, dir string)) {
	t.Run("mem", func(t *testing.T) {
		s := cloudblob.New(memblob.OpenBucket(nil))
		t.Cleanup(func() { s.Close() })
		fn(t, s, "")
	})
	t.Run("file", func(t *testing.T) {
		dir := t.TempDir()
		s, err := cloudblob.OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, s, dir)
	})
}

func TestStore(t *testing.T) {
	eachBucket(t, func(t *testing.T, s *cloudblob.Store, dir string) {
		ctx := context.Background()
		key := "acme/" + sha
		if err := s.Put(ctx, key, strings.NewReader("test")); err != nil {
			t.Fatal(err)
		}
		// Replacing is allowed and, in a folder, leaves only the file, where
		// the earlier on-disk store kept it.
		if err := s.Put(ctx, key, strings.NewReader("test")); err != nil {
			t.Fatal(err)
		}
		if dir != "" {
			entries, _ := os.ReadDir(filepath.Join(dir, "acme", sha[:2]))
			if len(entries) != 1 || entries[0].Name() != sha {
				t.Fatalf("files in the blob directory: %v", entries)
			}
		}
		readBack(t, s, key, "test")
		if err := s.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("deleting an absent key: %v", err)
		}
		if _, err := s.Open(ctx, key); !errors.Is(err, crm.ErrNotFound) {
			t.Fatalf("open after delete: %v, want ErrNotFound", err)
		}
		// Anything that is not a key never reaches the bucket.
		for _, bad := range []string{"../etc/" + sha, "acme/../" + sha, "acme/" + sha[:63], "Acme/" + sha, "acme/" + strings.ToUpper(sha), sha, ""} {
			if err := s.Put(ctx, bad, strings.NewReader("x")); err == nil {
				t.Fatalf("Put accepted key %q", bad)
			}
			if _, err := s.Open(ctx, bad); err == nil || errors.Is(err, crm.ErrNotFound) {
				t.Fatalf("Open of key %q: %v", bad, err)
			}
			if err := s.Delete(ctx, bad); err == nil {
				t.Fatalf("Delete accepted key %q", bad)
			}
		}
	})
}

// TestAbandonedWrites: a write whose context is cancelled, or whose reader
// fails part way, leaves nothing behind, neither in place of the key nor
// beside it; an earlier object under the key stays whole.
func TestAbandonedWrites(t *testing.T) {
	eachBucket(t, func(t *testing.T, s *cloudblob.Store, dir string) {
		ctx := context.Background()
		key := "acme/" + sha
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Put(cctx, key, strings.NewReader("late")); err == nil {
			t.Fatal("a cancelled Put succeeded")
		}
		if _, err := s.Open(ctx, key); !errors.Is(err, crm.ErrNotFound) {
			t.Fatalf("a cancelled Put left an object: %v", err)
		}
		failing := io.MultiReader(strings.NewReader(strings.Repeat("half ", 1000)), iotest.ErrReader(errors.New("connection lost")))
		if err := s.Put(ctx, key, failing); err == nil {
			t.Fatal("a Put whose reader failed succeeded")
		}
		if _, err := s.Open(ctx, key); !errors.Is(err, crm.ErrNotFound) {
			t.Fatalf("a failed Put left an object: %v", err)
		}
		if err := s.Put(ctx, key, strings.NewReader("whole")); err != nil {
			t.Fatal(err)
		}
		failing = io.MultiReader(strings.NewReader("replacement"), iotest.ErrReader(errors.New("connection lost")))
		if err := s.Put(ctx, key, failing); err == nil {
			t.Fatal("a Put whose reader failed succeeded")
		}
		readBack(t, s, key, "whole")
		if dir != "" {
			var files []string
			filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					files = append(files, path)
				}
				return err
			})
			if len(files) != 1 || filepath.Base(files[0]) != sha {
				t.Fatalf("files after abandoned writes: %v", files)
			}
		}
	})
}

// TestOpenByURL: a bucket opened by URL works like one opened directly.
func TestOpenByURL(t *testing.T) {
	dir := t.TempDir()
	s, err := cloudblob.Open(context.Background(), "file://"+filepath.ToSlash(dir)+"?no_tmp_dir=1&metadata=skip")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Put(context.Background(), "acme/"+sha, strings.NewReader("by url")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "acme", sha[:2], sha)); err != nil || string(b) != "by url" {
		t.Fatalf("file holds %q, %v", b, err)
	}
	if _, err := cloudblob.Open(context.Background(), "nosuch://bucket"); err == nil {
		t.Fatal("an unknown scheme opened")
	}
}

func readBack(t *testing.T, s *cloudblob.Store, key, want string) {
	t.Helper()
	rc, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(b) != want {
		t.Fatalf("read %q, %v; want %q", b, err, want)
	}
}
