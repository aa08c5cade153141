package store

import (
	"context"
	"sync"
)

// maxCachedClients bounds the cache; anyone may register clients, so their
// number is not the operator's to choose.
const maxCachedClients = 4096

// clientCache keeps the stored form of the clients read recently. Every
// token, introspection and resource request reads one or two clients, and
// clients change rarely: only through this store, which owns its database
// file (the trio locks its state directory).
//
// A write empties the cache and starts a new generation; a read caches
// what it found only if no write began or ended meanwhile, so that a value
// read before a write can never outlive it.
type clientCache struct {
	mu   sync.Mutex
	gen  uint64
	data map[string]string // client id → stored JSON
}

// get returns the stored form of a client and the generation to pass to
// put after reading it from the database on a miss.
func (c *clientCache) get(id string) (data string, gen uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	data, ok = c.data[id]
	return data, c.gen, ok
}

func (c *clientCache) put(id, data string, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.data == nil || len(c.data) >= maxCachedClients {
		c.data = map[string]string{}
	}
	c.data[id] = data
}

func (c *clientCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.data = nil
}

// clientsChanged is called after every write to the clients table. Inside
// a transaction the write is not yet visible to others, and a read between
// now and the commit would cache the old value: the commit invalidates
// once more.
func (s *Store) clientsChanged(ctx context.Context) {
	s.clients.invalidate()
	if tx := s.txOf(ctx); tx != nil {
		tx.clientsChanged = true
	}
}
