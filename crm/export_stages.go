package crm

import (
	"context"
	"sync"
)

// An export runs in three stages at once, each on its own goroutine: one
// reads the next page of customers, one reads what the page before links
// to (tags, attributes, consents, the columns of sources), and the caller
// writes the page before that. Run one after the other, reading took
// three quarters of an export's time and writing the rest, with one
// processor busy; overlapped, the export uses a second one (on SQLite the
// database's work runs in the process). The pages pass along in a fixed
// set of batches that come back to the reader once written, so the
// memory an export holds stays the same for any number of customers.

// exportBatches is how many pages an export holds: one per stage and one
// spare, so that no stage waits for a batch while another finishes.
const exportBatches = 4

// exportBatch is one page of an export with what it links to.
type exportBatch struct {
	page    []Customer
	ids     []string
	numbers []int64
	links   []ExportLink
	names   []string // the tag and attribute names of the page, which x's lists slice
	x       exportExtras
}

// exportLinking says what the linking stage reads for each page.
type exportLinking struct {
	needs               map[string]bool // "tags", "attributes", "consent"
	bySource            map[ExportColumnSource][]string
	tagNames, attrNames map[string]string // by qualifier id
	qualifierIDs        []string          // the keys of both, in order
	kind                QualifierKind     // of the links to read; empty: both
}

// link reads what the page of b links to into b.x.
func (s *ExportService) link(ctx context.Context, sc scope, l *exportLinking, b *exportBatch) error {
	b.ids, b.numbers = b.ids[:0], b.numbers[:0]
	for i := range b.page {
		b.ids = append(b.ids, b.page[i].ID)
		b.numbers = append(b.numbers, b.page[i].Number)
	}
	if l.needs["tags"] || l.needs["attributes"] {
		var err error
		if b.links, err = s.store.ExportQualifierLinks(ctx, sc.org, l.kind, l.qualifierIDs, b.numbers, b.links[:0]); err != nil {
			return err
		}
		b.names = b.names[:0]
		b.x.tags = resizeLists(b.x.tags, len(b.page), l.needs["tags"])
		b.x.attributes = resizeLists(b.x.attributes, len(b.page), l.needs["attributes"])
		// Links and page are both in number order.
		j := 0
		for i := range b.page {
			for ; j < len(b.links) && b.links[j].Number < b.page[i].Number; j++ {
			}
			start := len(b.names)
			for k := j; k < len(b.links) && b.links[k].Number == b.page[i].Number; k++ {
				if lk := b.links[k]; lk.Kind == KindTag {
					if n, ok := l.tagNames[lk.QualifierID]; ok {
						b.names = append(b.names, n)
					}
				}
			}
			tagEnd := len(b.names)
			for ; j < len(b.links) && b.links[j].Number == b.page[i].Number; j++ {
				if lk := b.links[j]; lk.Kind == KindAttribute {
					if n, ok := l.attrNames[lk.QualifierID]; ok {
						b.names = append(b.names, n)
					}
				}
			}
			// names may move as it grows; the lists keep the arrays they
			// were cut from, whose elements never change.
			if b.x.tags != nil {
				b.x.tags[i] = b.names[start:tagEnd:tagEnd]
			}
			if b.x.attributes != nil {
				b.x.attributes[i] = b.names[tagEnd:len(b.names):len(b.names)]
			}
		}
	}
	if l.needs["consent"] && len(b.ids) > 0 {
		var err error
		if b.x.consents, err = s.store.ConsentStateListMany(ctx, sc.org, b.ids); err != nil {
			return err
		}
	}
	for src, keys := range l.bySource {
		vals, err := src.ExportFill(ctx, sc.org, keys, b.page)
		if err != nil {
			return err
		}
		if b.x.sourced == nil {
			b.x.sourced = map[ExportColumnSource]map[string]map[string]any{}
		}
		b.x.sourced[src] = vals
	}
	return nil
}

// runExportStages runs an export's stages: read fills a batch with the
// next page and says whether more may follow, link adds what the page
// links to, write writes it. They run at once (see above), or one after
// the other when sequential: in a transaction, whose one connection
// cannot run two statements at once. The first error stops all three and
// is returned, as is the end of ctx.
func runExportStages(ctx context.Context, sequential bool,
	read func(context.Context, *exportBatch) (bool, error),
	link func(context.Context, *exportBatch) error,
	write func(*exportBatch) error,
) error {
	if sequential {
		b := new(exportBatch)
		for {
			more, err := read(ctx, b)
			if err == nil {
				err = link(ctx, b)
			}
			if err == nil {
				err = write(b)
			}
			if err != nil || !more {
				return err
			}
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Every channel holds all the batches, so no send ever waits: a stage
	// that stops cannot leave another blocked.
	free := make(chan *exportBatch, exportBatches)
	read2link := make(chan *exportBatch, exportBatches)
	link2write := make(chan *exportBatch, exportBatches)
	for range exportBatches {
		free <- new(exportBatch)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(read2link)
		for {
			var b *exportBatch
			select {
			case b = <-free:
			case <-ctx.Done():
				return
			}
			more, err := read(ctx, b)
			if err != nil {
				cancel(err)
				return
			}
			read2link <- b
			if !more {
				return
			}
		}
	})
	wg.Go(func() {
		defer close(link2write)
		for b := range read2link {
			if ctx.Err() != nil {
				continue
			}
			if err := link(ctx, b); err != nil {
				cancel(err)
				continue
			}
			link2write <- b
		}
	})
	for b := range link2write {
		if ctx.Err() != nil {
			continue
		}
		if err := write(b); err != nil {
			cancel(err)
			continue
		}
		free <- b
	}
	wg.Wait()
	return context.Cause(ctx)
}

// inCallTx reports whether ctx carries the transaction of an idempotent
// call (see txRouter), which the store's calls with ctx run in.
func inCallTx(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(Store)
	return ok
}
