package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ory/fosite"
	"github.com/ory/fosite/storage"

	// The pure Go driver keeps the reference free of cgo, so it cross-builds
	// and runs in scratch containers.
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrConflict reports that a record with the same key already exists.
var ErrConflict = errors.New("store: already exists")

// busyTimeoutMillis is how long a connection waits for another writer
// before giving up with SQLITE_BUSY. Token requests are short, so a few
// seconds only matter under heavy parallel refresh in tests.
const busyTimeoutMillis = 10000

// journalSizeLimit caps the WAL file SQLite leaves behind after a
// checkpoint; without it the WAL keeps its high-water size.
const journalSizeLimit = 4 << 20

// maxIdleConns is how many connections stay open between requests.
const maxIdleConns = 16

// Store is the authorization server's persistent state on SQLite. It is
// safe for concurrent use: SQLite serialises writers, and every
// read-then-write that must be atomic runs in one transaction.
type Store struct {
	db         *sql.DB
	newSession func() fosite.Session
	// keepAlive pins one connection of an in-memory database: the memdb VFS
	// frees the database when its last connection closes, and database/sql
	// closes idle connections whenever it likes.
	keepAlive *sql.Conn
	stmts     *stmtCache
	writer    writerSlot
	group     *groupCommit  // the writes made outside a transaction
	ckpt      *checkpointer // nil without a WAL
	clients   clientCache
}

// Open opens or creates the database file at path and brings its schema up
// to date. newSession returns an empty session of the concrete type the
// authorization server stores; stored sessions are decoded into it.
func Open(path string, newSession func() fosite.Session) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	// A URI filename, percent-encoded, so that '?' or '#' in a directory
	// name cannot be mistaken for the start of the parameters. A Windows
	// drive path needs a leading slash to read as an absolute URI path.
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	name := "file:" + (&url.URL{Path: p}).EscapedPath()
	if err := createPrivate(abs); err != nil {
		return nil, err
	}
	return open(name, abs+"-wal", newSession)
}

// createPrivate creates the database file readable by its owner alone, or
// narrows an existing one: it holds the private signing keys. SQLite gives
// the -wal and -shm files the mode of the database file, so they follow.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}

// OpenMemory opens a private, empty in-memory database with the same
// schema and settings as Open, except that it has no WAL: an open write
// transaction holds off readers on other connections until it ends. So,
// as with any Store, pass the transaction's context to every call made
// while one is open. It is meant for tests.
func OpenMemory(newSession func() fosite.Session) (*Store, error) {
	var b [16]byte
	rand.Read(b[:])
	// The memdb VFS shares one database between the pool's connections
	// with ordinary file locking, unlike shared-cache mode whose table
	// locks fail at once instead of honouring the busy timeout.
	name := "file:/oauthtrio-" + hex.EncodeToString(b[:]) + "?vfs=memdb"
	return open(name, "", newSession)
}

// open opens the database at name; walPath is its WAL file, or "" for an
// in-memory database, which has none.
func open(name, walPath string, newSession func() fosite.Session) (*Store, error) {
	memory := walPath == ""
	if newSession == nil {
		return nil, errors.New("store: newSession is required")
	}
	params := url.Values{}
	params.Set("_txlock", "immediate")
	params.Set("_busy_timeout", fmt.Sprint(busyTimeoutMillis))
	params.Set("_foreign_keys", "1")
	if !memory {
		// WAL lets the login page and introspection read while a token
		// request writes. The memdb VFS has no shared memory for a WAL.
		params.Set("_journal_mode", "WAL")
		params.Set("_synchronous", "NORMAL")
		params.Set("_pragma", fmt.Sprintf("journal_size_limit(%d)", journalSizeLimit))
		// The checkpointer below does SQLite's automatic checkpoints.
		params.Add("_pragma", "wal_autocheckpoint(0)")
	}
	sep := "?"
	if memory {
		sep = "&"
	}
	db, err := sql.Open("sqlite", name+sep+params.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	// Every request touches the database, and several run at once: keep
	// their connections instead of database/sql's default of two idle
	// ones, since opening one costs more than the query it serves.
	db.SetMaxIdleConns(maxIdleConns)
	s := &Store{db: db, newSession: newSession, stmts: &stmtCache{db: db, noPrepareInTx: memory}, writer: make(writerSlot, 1)}
	if memory {
		if s.keepAlive, err = db.Conn(context.Background()); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: open: %w", err)
		}
	}
	if !memory {
		s.ckpt = newCheckpointer(db, s.writer, walPath)
	}
	s.group = newGroupCommit(db, s.stmts, s.writer, s.ckpt)
	if err := s.migrate(context.Background()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Checkpoint copies the WAL into the database and truncates it, so the WAL
// stays small even when readers kept the background checkpoints from
// finishing. In-memory stores have no WAL; it does nothing there.
func (s *Store) Checkpoint(ctx context.Context) error {
	if s.ckpt == nil {
		return nil
	}
	return s.ckpt.truncate(ctx)
}

// Close releases the database. Stores must not be used afterwards.
func (s *Store) Close() error {
	s.group.close()
	s.stmts.close()
	if s.keepAlive != nil {
		s.keepAlive.Close()
	}
	return s.db.Close()
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// txKey carries the store so that a transaction begun on one Store is never
// used by another.
type txKey struct{ s *Store }

var _ storage.Transactional = (*Store)(nil)

// BeginTX starts a transaction and returns a context carrying it; every
// store method called with that context runs inside it. fosite uses this to
// make the code exchange and the refresh rotation atomic. Transactions
// write, so each holds the writer slot until it ends.
func (s *Store) BeginTX(ctx context.Context) (context.Context, error) {
	if s.txOf(ctx) != nil {
		return ctx, errors.New("store: transaction already open in this context")
	}
	if err := s.writer.acquire(ctx); err != nil {
		return ctx, fmt.Errorf("store: begin: %w", err)
	}
	release := sync.OnceFunc(s.writer.release)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		release()
		return ctx, fmt.Errorf("store: begin: %w", err)
	}
	// database/sql rolls back a transaction whose context ends; the slot
	// goes with it, so an abandoned transaction cannot hold it forever.
	context.AfterFunc(ctx, release)
	return context.WithValue(ctx, txKey{s}, &openTx{Tx: tx, release: release}), nil
}

// openTx is a transaction and the writer slot it holds.
type openTx struct {
	*sql.Tx
	release        func() // frees the writer slot; only the first call counts
	clientsChanged bool   // the transaction wrote to the clients table
}

// txOf returns the transaction ctx carries, or nil.
func (s *Store) txOf(ctx context.Context) *openTx {
	tx, _ := ctx.Value(txKey{s}).(*openTx)
	return tx
}

// Commit commits the transaction carried by ctx.
func (s *Store) Commit(ctx context.Context) error {
	tx := s.txOf(ctx)
	if tx == nil {
		return errors.New("store: commit: no transaction in context")
	}
	defer tx.release()
	err := tx.Commit()
	if tx.clientsChanged {
		s.clients.invalidate()
	}
	if err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Rollback aborts the transaction carried by ctx. fosite also rolls back
// after a failed Commit, when the transaction is already finished; that is
// not an error.
func (s *Store) Rollback(ctx context.Context) error {
	tx := s.txOf(ctx)
	if tx == nil {
		return errors.New("store: rollback: no transaction in context")
	}
	defer tx.release()
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("store: rollback: %w", err)
	}
	return nil
}

// q runs prepared statements in the transaction carried by ctx, or on the
// database, where writes are committed in groups.
func (s *Store) q(ctx context.Context) querier {
	p := preparedQuerier{cache: s.stmts, raw: s.raw(ctx), group: s.group}
	if tx := s.txOf(ctx); tx != nil {
		p.tx = tx.Tx
	}
	return p
}

// raw returns the transaction carried by ctx, or the database, for
// statements run once, such as migrations, that are not worth preparing.
func (s *Store) raw(ctx context.Context) querier {
	if tx := s.txOf(ctx); tx != nil {
		return tx.Tx
	}
	return s.db
}

// inTx runs fn atomically: inside the caller's transaction if ctx carries
// one, else in a transaction of its own.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.txOf(ctx) != nil {
		return fn(ctx)
	}
	txCtx, err := s.BeginTX(ctx)
	if err != nil {
		return err
	}
	if err := fn(txCtx); err != nil {
		s.Rollback(txCtx)
		return err
	}
	return s.Commit(txCtx)
}

// ErrUnavailable marks a failure that passes: a full disk, a lock held too
// long, an I/O error. Callers answer temporarily_unavailable rather than
// server_error, and the next request may well succeed.
var ErrUnavailable = errors.New("store: temporarily unavailable")

// Unavailable reports whether err comes from a condition that passes
// (ErrUnavailable, or an SQLite error of that kind anywhere in its chain).
func Unavailable(err error) bool {
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // the primary result code
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED,
		sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOMEM:
		return true
	}
	return false
}
