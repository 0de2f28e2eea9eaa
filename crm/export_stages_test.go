package crm

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// stagedExport runs runExportStages over pages pages of one customer each
// (numbered from 1), failing in the stage named by failIn at page failAt,
// and returns the numbers written in order.
func stagedExport(ctx context.Context, sequential bool, pages int, failIn string, failAt int64) ([]int64, error) {
	var next int64
	var written []int64
	boom := fmt.Errorf("%s failed", failIn)
	err := runExportStages(ctx, sequential,
		func(ctx context.Context, b *exportBatch) (bool, error) {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			next++
			if failIn == "read" && next == failAt {
				return false, boom
			}
			b.page = append(b.page[:0], Customer{Number: next})
			return next < int64(pages), nil
		},
		func(ctx context.Context, b *exportBatch) error {
			if failIn == "link" && b.page[0].Number == failAt {
				return boom
			}
			b.numbers = append(b.numbers[:0], b.page[0].Number)
			return nil
		},
		func(b *exportBatch) error {
			if failIn == "write" && b.page[0].Number == failAt {
				return boom
			}
			if b.numbers[0] != b.page[0].Number {
				return fmt.Errorf("page %d written with the links of page %d", b.page[0].Number, b.numbers[0])
			}
			written = append(written, b.page[0].Number)
			return nil
		})
	return written, err
}

// TestExportStages: the stages write every page once, in order, with its
// own links; the first failure of any stage ends the export with that
// failure and nothing after the failed page is written; so does the end
// of the caller's context.
func TestExportStages(t *testing.T) {
	for _, sequential := range []bool{false, true} {
		t.Run(fmt.Sprintf("sequential=%v", sequential), func(t *testing.T) {
			got, err := stagedExport(context.Background(), sequential, 50, "", 0)
			if err != nil || len(got) != 50 {
				t.Fatalf("got %d pages, %v; want 50", len(got), err)
			}
			for i, n := range got {
				if n != int64(i+1) {
					t.Fatalf("page %d written as %d-th", n, i+1)
				}
			}
			for _, stage := range []string{"read", "link", "write"} {
				got, err := stagedExport(context.Background(), sequential, 50, stage, 20)
				if err == nil || err.Error() != stage+" failed" {
					t.Fatalf("%s failing: %v", stage, err)
				}
				if len(got) > 19 {
					t.Fatalf("%s failing at page 20: %d pages written", stage, len(got))
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := stagedExport(ctx, sequential, 50, "", 0); !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled: %v", err)
			}
		})
	}
}
