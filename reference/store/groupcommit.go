package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// maxGroup bounds how many writes share one commit, so that a long queue
// cannot make the first of them wait for all the others.
const maxGroup = 64

// errClosed answers the writes still queued when the store closes.
var errClosed = errors.New("store: closed")

// groupCommit runs the writes made outside a transaction in transactions
// they share. SQLite admits one writer at a time, and most of a write's
// cost is its commit: appending every page it touched to the WAL, and now
// and then a checkpoint. The writes that queue while one commit runs go
// into the next together, so concurrent token requests append each page
// once and pay for one commit between them.
type groupCommit struct {
	db      *sql.DB
	stmts   *stmtCache
	writer  writerSlot
	ckpt    *checkpointer // nil without a WAL
	commits int

	mu      sync.Mutex
	pending []*queuedWrite
	wake    chan struct{} // holds one token while writes are pending
	stop    chan struct{}
	stopped chan struct{}
}

// queuedWrite is one statement waiting for its group's commit.
type queuedWrite struct {
	ctx   context.Context
	query string
	args  []any
	res   sql.Result
	err   error
	done  chan struct{}
}

func (w *queuedWrite) finish(res sql.Result, err error) {
	w.res, w.err = res, err
	close(w.done)
}

func newGroupCommit(db *sql.DB, stmts *stmtCache, writer writerSlot, ckpt *checkpointer) *groupCommit {
	g := &groupCommit{
		db: db, stmts: stmts, writer: writer, ckpt: ckpt,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	go g.run()
	return g
}

// exec runs one statement and returns once it is committed. The write
// behaves as if it had its own transaction: a constraint it breaks fails
// it alone. A caller that gives up while its write is queued gets its
// context's error; the write is then skipped, unless it has already run.
func (g *groupCommit) exec(ctx context.Context, query string, args []any) (sql.Result, error) {
	w := &queuedWrite{ctx: ctx, query: query, args: args, done: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, w)
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
	select {
	case <-w.done:
		return w.res, w.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-g.stopped:
		return nil, errClosed
	}
}

// close fails the queued writes and stops the loop.
func (g *groupCommit) close() {
	close(g.stop)
	<-g.stopped
}

func (g *groupCommit) run() {
	defer close(g.stopped)
	if g.ckpt != nil {
		defer g.ckpt.close()
	}
	for {
		select {
		case <-g.wake:
		case <-g.stop:
			g.mu.Lock()
			rest := g.pending
			g.pending = nil
			g.mu.Unlock()
			for _, w := range rest {
				w.finish(nil, errClosed)
			}
			return
		}
		for {
			group := g.take(maxGroup)
			if len(group) == 0 {
				break
			}
			g.commit(group)
		}
	}
}

// take removes up to n writes from the front of the queue.
func (g *groupCommit) take(n int) []*queuedWrite {
	g.mu.Lock()
	defer g.mu.Unlock()
	n = min(n, len(g.pending))
	group := slices.Clone(g.pending[:n])
	g.pending = slices.Delete(g.pending, 0, n)
	return group
}

// requeue puts writes back at the front of the queue, in their order.
func (g *groupCommit) requeue(ws []*queuedWrite) {
	g.mu.Lock()
	g.pending = slices.Insert(g.pending, 0, ws...)
	g.mu.Unlock()
}

// commit runs a group in one transaction. A write that breaks a constraint
// is undone alone, as SQLite undoes only the failing statement. Any other
// failure may have undone the whole transaction: the failing write gets
// the error and the others go back to the queue to run again.
func (g *groupCommit) commit(group []*queuedWrite) {
	// Statements are prepared before the transaction begins: preparing
	// reads the schema on another connection, which an open transaction
	// on an in-memory database would block.
	stmts := make([]*sql.Stmt, len(group))
	for i, w := range group {
		stmts[i], _ = g.stmts.get(w.ctx, w.query)
	}
	_ = g.writer.acquire(context.Background())
	defer g.writer.release()
	// The transaction outlives any one caller: a cancelled context must
	// not roll back the writes of the others.
	tx, err := g.db.BeginTx(context.Background(), nil)
	if err != nil {
		for _, w := range group {
			w.finish(nil, err)
		}
		return
	}
	var ran []*queuedWrite
	for i, w := range group {
		if err := w.ctx.Err(); err != nil {
			w.finish(nil, err)
			continue
		}
		res, err := execIn(tx, stmts[i], w)
		switch {
		case err == nil:
			w.res = res
			ran = append(ran, w)
		case isConstraintViolation(err):
			w.finish(nil, err)
		default:
			tx.Rollback()
			w.finish(nil, err)
			g.requeue(append(ran, group[i+1:]...))
			return
		}
	}
	err = tx.Commit()
	if err == nil && g.ckpt != nil {
		g.ckpt.due()
	}
	for _, w := range ran {
		if err != nil {
			w.finish(nil, err)
		} else {
			w.finish(w.res, nil)
		}
	}
}

// execIn runs w in tx, through its prepared statement when it has one.
func execIn(tx *sql.Tx, st *sql.Stmt, w *queuedWrite) (sql.Result, error) {
	ctx := context.WithoutCancel(w.ctx)
	if st == nil {
		return tx.ExecContext(ctx, w.query, w.args...)
	}
	return tx.StmtContext(ctx, st).ExecContext(ctx, w.args...)
}

// isConstraintViolation reports an error after which SQLite has undone
// the failing statement and nothing else.
func isConstraintViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}
