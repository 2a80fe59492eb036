package node

import (
	"hash/maphash"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Bounds of the per-IP buckets, each with the reason for it.
const (
	// maxGatewayClients bounds the client IPs tracked at once: each costs
	// about 300 bytes (see BenchmarkGatewayManyClients), so 100k cost about
	// 30 MB, and a flood from many addresses cannot grow memory further.
	maxGatewayClients = 100_000
	// gatewayShards spreads the clients over locks, so that two cores do
	// not contend on one mutex at 20k requests per second.
	gatewayShards = 32
	// gatewayIdleSweep is how many idle clients an insertion frees at most,
	// so that an insertion costs O(1).
	gatewayIdleSweep = 2
	// ipv6GroupBits groups IPv6 clients by /64: one host commonly holds a
	// whole /64 and could otherwise take a fresh bucket per address.
	ipv6GroupBits = 64
)

// verdict is the outcome of spending a token: whether the request may
// pass, the tokens left, and how long until the next token.
type verdict struct {
	ok     bool
	tokens float64
	wait   time.Duration
}

// spend takes one token of lim at now.
func spend(lim *rate.Limiter, now time.Time) verdict {
	ok := lim.AllowN(now, 1)
	tokens := lim.TokensAt(now)
	v := verdict{ok: ok, tokens: tokens}
	if r := float64(lim.Limit()); tokens < float64(lim.Burst()) && r > 0 {
		frac := tokens - math.Floor(tokens)
		if tokens < 0 {
			frac = tokens // a negative balance (never left by AllowN): wait for all of it
		}
		v.wait = time.Duration((1 - frac) / r * float64(time.Second))
	}
	return v
}

// minuteCounts counts requests in the current and the previous minute, for
// a sliding estimate of the last minute's requests.
type minuteCounts struct {
	minute    int64
	cur, prev uint32
}

// roll moves the window to now's minute.
func (m *minuteCounts) roll(now time.Time) {
	minute := now.Unix() / 60
	switch {
	case minute == m.minute:
		return
	case minute == m.minute+1:
		m.prev = m.cur
	default:
		m.prev = 0
	}
	m.cur, m.minute = 0, minute
}

// add counts one request at now.
func (m *minuteCounts) add(now time.Time) {
	m.roll(now)
	if m.cur < math.MaxUint32 {
		m.cur++
	}
}

// lastMinute estimates the requests of the minute before now: the current
// minute's plus the overlapping share of the previous one.
func (m minuteCounts) lastMinute(now time.Time) float64 {
	m.roll(now)
	into := float64(now.UnixNano()%int64(time.Minute)) / float64(time.Minute)
	return float64(m.cur) + float64(m.prev)*(1-into)
}

// clientEntry is one tracked client IP, in its shard's map and LRU list.
type clientEntry struct {
	addr       netip.Addr
	lim        *rate.Limiter
	counts     minuteCounts
	prev, next *clientEntry // LRU: prev is less recently seen
}

// clientShard is a share of the tracked clients under one lock.
type clientShard struct {
	mu         sync.Mutex
	m          map[netip.Addr]*clientEntry
	head, tail *clientEntry // head: least recently seen
}

// clientTable holds a token bucket per client IP, at most max at once:
// idle clients (buckets full again) are forgotten first, and when every
// tracked client is active the least recently seen one is. It is safe for
// concurrent use.
type clientTable struct {
	limit    rate.Limit
	burst    int
	perShard int
	seed     maphash.Seed
	shards   [gatewayShards]clientShard
}

// newClientTable returns a table of buckets of r per second and burst b,
// tracking at most capacity clients.
func newClientTable(r float64, b, capacity int) *clientTable {
	t := &clientTable{limit: rate.Limit(r), burst: b, perShard: max(1, capacity/gatewayShards), seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].m = make(map[netip.Addr]*clientEntry)
	}
	return t
}

// take counts a request of addr at now and spends a token of its bucket.
func (t *clientTable) take(addr netip.Addr, now time.Time) verdict {
	s := &t.shards[maphash.Comparable(t.seed, addr)%gatewayShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[addr]
	if e == nil {
		e = t.insert(s, addr, now)
	} else {
		s.unlink(e)
	}
	s.append(e)
	e.counts.add(now)
	return spend(e.lim, now)
}

// insert adds a new entry for addr, first forgetting idle clients and, when
// the shard is full, its least recently seen client.
func (t *clientTable) insert(s *clientShard, addr netip.Addr, now time.Time) *clientEntry {
	for i := 0; i < gatewayIdleSweep && s.head != nil && s.head.lim.TokensAt(now) >= float64(t.burst); i++ {
		s.remove(s.head)
	}
	if len(s.m) >= t.perShard {
		s.remove(s.head)
	}
	e := &clientEntry{addr: addr, lim: rate.NewLimiter(t.limit, t.burst)}
	s.m[addr] = e
	return e
}

// remove forgets e.
func (s *clientShard) remove(e *clientEntry) {
	s.unlink(e)
	delete(s.m, e.addr)
}

// unlink takes e out of the LRU list.
func (s *clientShard) unlink(e *clientEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		s.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

// append puts e at the most recently seen end of the LRU list.
func (s *clientShard) append(e *clientEntry) {
	e.prev = s.tail
	if s.tail != nil {
		s.tail.next = e
	} else {
		s.head = e
	}
	s.tail = e
}

// len returns the clients tracked now.
func (t *clientTable) len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

// Talker is a client and its estimated requests in the last minute.
type Talker struct {
	// Client is an IP ("192.0.2.1"), an IPv6 /64 ("2001:db8::/64") or an
	// API key ("key:<app_id>").
	Client string
	// Requests is the estimate of its requests in the last minute.
	Requests float64
}

// topTalkers keeps the n largest talkers offered to it.
type topTalkers struct {
	n   int
	top []Talker // sorted, most requests first
}

// offer considers one talker.
func (tt *topTalkers) offer(client func() string, requests float64) {
	if requests <= 0 || (len(tt.top) == tt.n && requests <= tt.top[tt.n-1].Requests) {
		return
	}
	i, _ := slices.BinarySearchFunc(tt.top, requests, func(t Talker, r float64) int {
		switch {
		case t.Requests > r:
			return -1
		case t.Requests < r:
			return 1
		}
		return 0
	})
	tt.top = slices.Insert(tt.top, i, Talker{Client: client(), Requests: requests})
	if len(tt.top) > tt.n {
		tt.top = tt.top[:tt.n]
	}
}

// talkers offers every tracked client to tt.
func (t *clientTable) talkers(tt *topTalkers, now time.Time) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for e := s.head; e != nil; e = e.next {
			tt.offer(func() string { return clientLabel(e.addr) }, e.counts.lastMinute(now))
		}
		s.mu.Unlock()
	}
}

// clientKey returns the bucket key of an address: itself for IPv4, its /64
// for IPv6.
func clientKey(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(ipv6GroupBits)
		return p.Addr()
	}
	return a
}

// clientLabel names a bucket key: the IPv4 address, or the IPv6 /64.
func clientLabel(a netip.Addr) string {
	if a.Is6() {
		return a.String() + "/" + strconv.Itoa(ipv6GroupBits)
	}
	return a.String()
}

// policyValue returns a RateLimit-Policy item for a token bucket of r per
// second and burst b: the quota is the burst, the window the seconds it
// takes to refill (at least 1), per draft-ietf-httpapi-ratelimit-headers-10
// §3 (RateLimit-Policy: "ip";q=20;w=2).
func policyValue(name string, r float64, b int) string {
	w := max(1, int64(math.Ceil(float64(b)/r)))
	var sb strings.Builder
	sb.WriteString(`"` + name + `";q=`)
	sb.WriteString(strconv.Itoa(b))
	sb.WriteString(";w=")
	sb.WriteString(strconv.FormatInt(w, 10))
	return sb.String()
}

// limitValue returns a RateLimit item (draft-10 §4): r is the whole tokens
// left, t the seconds until the next one (0 when the bucket is full).
func limitValue(name string, v verdict) string {
	b := make([]byte, 0, 32)
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `";r=`...)
	b = strconv.AppendInt(b, int64(max(0, math.Floor(v.tokens))), 10)
	b = append(b, ";t="...)
	b = strconv.AppendInt(b, ceilSeconds(v.wait), 10)
	return string(b)
}

// ceilSeconds returns d in whole seconds, rounded up.
func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}
