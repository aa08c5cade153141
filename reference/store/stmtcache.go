package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps one prepared statement per query text. Parsing SQL is a
// tenth of a token request's CPU time otherwise: database/sql prepares an
// ad hoc query on every call. Every query the store runs is a constant or
// built from a fixed set of table names, so the cache stays small.
type stmtCache struct {
	db *sql.DB
	// noPrepareInTx is set where an open write transaction blocks other
	// connections (an in-memory database has no WAL): preparing a new
	// statement there, which reads the schema on another connection,
	// would wait for the transaction that waits for it.
	noPrepareInTx bool
	m             sync.Map // query text → *sql.Stmt
	mu            sync.Mutex
}

// get returns the prepared statement for query, preparing it once.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.m.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.m.Store(query, st)
	return st, nil
}

// close releases every cached statement.
func (c *stmtCache) close() {
	c.m.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
}

// preparedQuerier runs queries through the cache, inside tx when there is
// one. A query that cannot be prepared runs unprepared, so its error comes
// back the usual way.
type preparedQuerier struct {
	cache *stmtCache
	tx    *sql.Tx // nil outside a transaction
	raw   querier // tx, or the database
	group *groupCommit
}

func (p preparedQuerier) stmt(ctx context.Context, query string) *sql.Stmt {
	if p.tx != nil && p.cache.noPrepareInTx {
		st, ok := p.cache.m.Load(query)
		if !ok {
			return nil
		}
		return p.tx.StmtContext(ctx, st.(*sql.Stmt))
	}
	st, err := p.cache.get(ctx, query)
	if err != nil {
		return nil
	}
	if p.tx != nil {
		// Reuses the statement prepared on the transaction's connection,
		// and prepares it there once if it is not yet.
		return p.tx.StmtContext(ctx, st)
	}
	return st
}

func (p preparedQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if p.tx == nil {
		return p.group.exec(ctx, query, args)
	}
	if st := p.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.raw.ExecContext(ctx, query, args...)
}

func (p preparedQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.raw.QueryContext(ctx, query, args...)
}

func (p preparedQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.raw.QueryRowContext(ctx, query, args...)
}

// writerSlot lets one of this process's writers at a time reach SQLite.
// SQLite admits one writer and makes the others poll with growing sleeps,
// which leaves the CPU idle while requests wait; a queue in Go hands the
// turn on at once. Other processes on the same file still meet SQLite's
// busy timeout.
type writerSlot chan struct{}

func (w writerSlot) acquire(ctx context.Context) error {
	select {
	case w <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w writerSlot) release() { <-w }
