package federation_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipdb/ipdb-node/federation"
	"github.com/ipdb/ipdb-node/federation/internal/sim"
)

// harness drives a few machines by hand: the network is one inbox per node,
// app requests and timers wait until a command answers or fires them.
// Nodes are numbered from 1; "all" or no number means every node. Commands:
//
//	add-nodes N power=(p1,...)   nodes v1..vN, one machine each; power 0: not a member (yet)
//	set-validators h=H power=(..)  the set from height H on (power 0: not a member)
//	add-observer                 a machine with Self "" (gets every broadcast)
//	proposers h=H rounds=R       print Proposer(H, r) for r < R
//	start|txs|replay|state N...  StartHeight / TxsAvailable / crash+restart with WAL replay / print state
//	build N... [block=ID]        answer the pending Build (default id "h<h>/r<r>/v<n>")
//	verdict N... valid|invalid [block=ID]  answer pending Verify requests
//	timeout N... STEP [r=R]      fire the latest pending STEP timer (of round R; forced if none)
//	deliver N... [from=(..)] [type=(..)] [drop]  deliver (or lose) matching inbox messages
//	deliver-all [drop=(N..)]     deliver every inbox once; inboxes of drop nodes are lost
//	stabilize [drop=(N..)] [nobuild]  deliver and answer the app until quiet (timers never fire)
//	send N... type=T from=V [h=H] r=R [block=ID] [pol=P]  queue a message signed by vV
//	decided                      print every node's decisions
type harness struct {
	t     *testing.T
	sets  []heightSet // ascending by from; the set of height h is the last with from <= h
	nodes []*hnode    // node "i" is nodes[i-1]
}

// hnode is one scripted participant.
type hnode struct {
	name     string
	cfg      federation.Config
	m        *federation.Machine
	height   uint64
	inbox    []federation.Message
	build    *federation.BuildRequest
	verify   []federation.VerifyRequest
	timers   []federation.Timer
	wal      []federation.Message
	decided  []federation.Decision
	evidence int
}

// scriptConfig is the machine config of scripted nodes: round-0 timeouts of
// 3s/1s/1s growing by 500ms per round, retry every 10s.
func scriptConfig(self federation.ValidatorID) federation.Config {
	return federation.Config{Self: self, TimeoutPropose: 3 * time.Second, TimeoutPrevote: time.Second,
		TimeoutPrecommit: time.Second, TimeoutDelta: 500 * time.Millisecond, RetryInterval: 10 * time.Second}
}

// run executes one command and returns its output.
func (h *harness) run(c command) string {
	var b strings.Builder
	switch c.name {
	case "add-nodes":
		h.addNodes(&b, c)
	case "add-observer":
		h.addNode(&b, "")
	case "set-validators":
		h.setValidators(&b, c)
	case "proposers":
		h.proposers(&b, c)
	case "start", "txs", "replay", "build", "verdict", "timeout", "state":
		for _, n := range h.targets(c) {
			h.nodeCmd(&b, n, c)
		}
	case "deliver":
		for _, n := range h.targets(c) {
			h.deliver(&b, n, c)
		}
	case "deliver-all":
		h.deliverAll(&b, c.kv["drop"])
	case "stabilize":
		h.stabilize(&b, c)
	case "send":
		h.send(&b, c)
	case "decided":
		h.printDecided(&b)
	default:
		h.t.Fatalf("unknown command %q", c.name)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// maxStabilize bounds the passes of one stabilize command; machines without
// fired timers go quiet after a few passes, so hitting it is a bug.
const maxStabilize = 1000

// stabilize delivers messages and answers app requests until nothing is left.
func (h *harness) stabilize(b *strings.Builder, c command) {
	build := !slices.Contains(c.pos, "nobuild")
	for range maxStabilize {
		if !h.deliverAll(b, c.kv["drop"]) && !h.answerApp(b, build) {
			return
		}
	}
	h.t.Fatalf("stabilize: still busy after %d passes", maxStabilize)
}

// num parses a decimal number of a script, failing the test on bad input.
func (h *harness) num(s string) uint64 {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		h.t.Fatalf("bad number %q: %v", s, err)
	}
	return n
}

// addNodes creates nodes "1".."N" (IDs v1..vN) and the set of height 1
// from power=(...): default 1, 0 for a node that is not a member.
func (h *harness) addNodes(b *strings.Builder, c command) {
	count := int(h.num(c.pos[0]))
	h.sets = []heightSet{{from: 1, set: h.makeSet(count, c.kv["power"])}}
	for i := range count {
		h.addNode(b, federation.ValidatorID(fmt.Sprintf("v%d", i+1)))
	}
}

// addNode creates one machine; self "" is an observer.
func (h *harness) addNode(b *strings.Builder, self federation.ValidatorID) {
	cfg := scriptConfig(self)
	m, err := federation.New(cfg)
	if err != nil {
		h.t.Fatalf("New(%+v)=%v", cfg, err)
	}
	n := &hnode{name: strconv.Itoa(len(h.nodes) + 1), cfg: cfg, m: m}
	h.nodes = append(h.nodes, n)
	fmt.Fprintf(b, "node %s: self=%q\n", n.name, self)
}

// proposers prints Proposer(h, r) for rounds 0..rounds-1.
func (h *harness) proposers(b *strings.Builder, c command) {
	height := h.num(c.arg("h", "1"))
	for r := range uint32(h.num(c.arg("rounds", "4"))) {
		fmt.Fprintf(b, "h%d r%d: %s\n", height, r, h.setFor(height).Proposer(height, r))
	}
}

// isKeyword reports whether a positional arg is a keyword, not a node number.
func isKeyword(arg string) bool {
	switch arg {
	case "drop", "valid", "invalid", "propose", "prevote", "precommit", "retry":
		return true
	}
	return false
}

// targets returns the nodes named by the positional args ("all" or numbers).
func (h *harness) targets(c command) []*hnode {
	if len(c.pos) == 0 || c.pos[0] == "all" {
		return h.nodes
	}
	var out []*hnode
	for _, p := range c.pos {
		if isKeyword(p) {
			continue
		}
		i, err := strconv.Atoi(p)
		if err != nil || i < 1 || i > len(h.nodes) {
			h.t.Fatalf("%s: no node %q", c.name, p)
		}
		out = append(out, h.nodes[i-1])
	}
	return out
}

// nodeCmd runs a per-node command on n.
func (h *harness) nodeCmd(b *strings.Builder, n *hnode, c command) {
	switch c.name {
	case "start":
		height := uint64(len(n.decided)) + 1
		h.step(b, n, federation.StartHeight{Height: height, Validators: h.setFor(height)})
	case "txs":
		h.step(b, n, federation.TxsAvailable{Height: n.height})
	case "replay":
		h.restart(b, n)
	case "build":
		h.answerBuild(b, n, federation.BlockID(c.arg("block", "")))
	case "verdict":
		h.answerVerify(b, n, !slices.Contains(c.pos, "invalid"), federation.BlockID(c.arg("block", "")))
	case "timeout":
		h.fire(b, n, c.pos[len(c.pos)-1], c.arg("r", ""))
	case "state":
		h.printState(b, n)
	}
}

// step feeds in to n and prints what Step returned; broadcasts go to every
// other node's inbox.
func (h *harness) step(b *strings.Builder, n *hnode, in federation.Input) {
	if s, ok := in.(federation.StartHeight); ok {
		n.height = s.Height
	}
	out, err := n.m.Step(in)
	fmt.Fprintf(b, "%s: %s\n", n.name, describeInput(in))
	for _, ev := range out.Trace {
		fmt.Fprintf(b, "  trace: h%d r%d %s\n", ev.Height, ev.Round, ev.Event)
	}
	if err != nil {
		fmt.Fprintf(b, "  error: %v\n", err)
	}
	for _, m := range out.WAL {
		fmt.Fprintf(b, "  wal: %s\n", sim.FormatMessage(m))
	}
	n.wal = append(n.wal, out.WAL...)
	for _, m := range out.Broadcast {
		fmt.Fprintf(b, "  broadcast: %s\n", sim.FormatMessage(m))
		for _, p := range h.nodes {
			if p != n {
				p.inbox = append(p.inbox, m)
			}
		}
	}
	h.applyRest(b, n, out)
}

// applyRest records timers, app requests, decisions and evidence of out.
func (h *harness) applyRest(b *strings.Builder, n *hnode, out federation.Output) {
	for _, tm := range out.Timers {
		fmt.Fprintf(b, "  timer: %v h%d r%d after %v\n", tm.Step, tm.Height, tm.Round, tm.After)
		n.timers = append(n.timers, tm)
	}
	if out.Build != nil {
		fmt.Fprintf(b, "  build: h%d r%d\n", out.Build.Height, out.Build.Round)
		n.build = out.Build
	}
	for _, v := range out.Verify {
		fmt.Fprintf(b, "  verify: h%d r%d %q\n", v.Height, v.Round, v.BlockID)
	}
	n.verify = append(n.verify, out.Verify...)
	if d := out.Decided; d != nil {
		var who []string
		for _, v := range d.Precommits {
			who = append(who, string(v.Validator))
		}
		fmt.Fprintf(b, "  decided: h%d r%d %q precommits=(%s)\n", d.Height, d.Round, d.BlockID, strings.Join(who, ","))
		n.decided = append(n.decided, *d)
	}
	for _, e := range out.Evidence {
		fmt.Fprintf(b, "  evidence: %s / %s\n", sim.FormatMessage(federation.Message{Vote: &e.First}),
			sim.FormatMessage(federation.Message{Vote: &e.Second}))
		n.evidence++
	}
}

// describeInput renders an input on one line.
func describeInput(in federation.Input) string {
	switch v := in.(type) {
	case federation.ProposalReceived:
		return "receive " + sim.FormatMessage(federation.Message{Proposal: &v.Proposal})
	case federation.VoteReceived:
		return "receive " + sim.FormatMessage(federation.Message{Vote: &v.Vote})
	case federation.Replay:
		return "replay " + sim.FormatMessage(v.Message)
	case federation.StartHeight:
		return fmt.Sprintf("start height %d", v.Height)
	case federation.TxsAvailable:
		return fmt.Sprintf("txs available h%d", v.Height)
	case federation.TimeoutFired:
		return fmt.Sprintf("timeout %v h%d r%d", v.Step, v.Height, v.Round)
	case federation.BlockBuilt:
		return fmt.Sprintf("built h%d r%d %q", v.Height, v.Round, v.BlockID)
	case federation.BlockVerdict:
		return fmt.Sprintf("verdict h%d %q valid=%v", v.Height, v.BlockID, v.Valid)
	}
	return fmt.Sprintf("%T", in)
}

// deliver hands n its inbox messages matching from=(ids of senders by
// validator number) and type=; with "drop" they are discarded instead.
func (h *harness) deliver(b *strings.Builder, n *hnode, c command) {
	var keep []federation.Message
	msgs := n.inbox
	n.inbox = nil
	for _, m := range msgs {
		if !matches(m, c) {
			keep = append(keep, m)
			continue
		}
		if !slices.Contains(c.pos, "drop") {
			h.step(b, n, receive(m))
		}
	}
	n.inbox = append(keep, n.inbox...)
}

// matches reports whether m passes the from= and type= filters of c.
func matches(m federation.Message, c command) bool {
	sender, typ := "", "proposal"
	if m.Proposal != nil {
		sender = string(m.Proposal.Proposer)
	} else {
		sender, typ = string(m.Vote.Validator), m.Vote.Type.String()
	}
	if from, ok := c.kv["from"]; ok && !slices.Contains(from, strings.TrimPrefix(sender, "v")) {
		return false
	}
	if types, ok := c.kv["type"]; ok && !slices.Contains(types, typ) {
		return false
	}
	return true
}

// receive turns a message into its input.
func receive(m federation.Message) federation.Input {
	if m.Proposal != nil {
		return federation.ProposalReceived{Proposal: *m.Proposal}
	}
	return federation.VoteReceived{Vote: *m.Vote}
}

// deliverAll delivers every node's current inbox once, in node order; inboxes
// of nodes in drop are discarded. It reports whether anything was delivered.
func (h *harness) deliverAll(b *strings.Builder, drop []string) bool {
	any := false
	for _, n := range h.nodes {
		msgs := n.inbox
		n.inbox = nil
		for _, m := range msgs {
			if slices.Contains(drop, n.name) {
				continue
			}
			any = true
			h.step(b, n, receive(m))
		}
	}
	return any
}

// answerApp answers every pending verify (valid) and, if build, every
// pending build (default block). It reports whether it answered anything.
func (h *harness) answerApp(b *strings.Builder, build bool) bool {
	any := false
	for _, n := range h.nodes {
		if (build && n.build != nil) || len(n.verify) > 0 {
			any = true
			if build {
				h.answerBuild(b, n, "")
			}
			h.answerVerify(b, n, true, "")
		}
	}
	return any
}

// answerBuild answers n's pending build with id, or "h<h>/r<r>/v<n>" by default.
func (h *harness) answerBuild(b *strings.Builder, n *hnode, id federation.BlockID) {
	req := n.build
	if req == nil {
		return
	}
	n.build = nil
	if id == "" {
		id = federation.BlockID(fmt.Sprintf("h%d/r%d/v%s", req.Height, req.Round, n.name))
	}
	h.step(b, n, federation.BlockBuilt{Height: req.Height, Round: req.Round, BlockID: id})
}

// answerVerify answers n's pending verify requests (only block, if given).
func (h *harness) answerVerify(b *strings.Builder, n *hnode, valid bool, block federation.BlockID) {
	reqs := n.verify
	n.verify = nil
	for _, v := range reqs {
		if block != "" && v.BlockID != block {
			n.verify = append(n.verify, v)
			continue
		}
		h.step(b, n, federation.BlockVerdict{Height: v.Height, BlockID: v.BlockID, Valid: valid})
	}
}

// fire fires n's latest pending timer of the named step (of round r if not
// ""); with r given and no such timer pending, it fires one anyway (a stale
// or duplicate timer).
func (h *harness) fire(b *strings.Builder, n *hnode, step, r string) {
	for i := len(n.timers) - 1; i >= 0; i-- {
		tm := n.timers[i]
		if tm.Step.String() == step && (r == "" || r == strconv.Itoa(int(tm.Round))) {
			n.timers = slices.Delete(n.timers, i, i+1)
			h.step(b, n, federation.TimeoutFired{Height: tm.Height, Round: tm.Round, Step: tm.Step})
			return
		}
	}
	if st, ok := parseStep(step); ok && r != "" {
		h.step(b, n, federation.TimeoutFired{Height: n.height, Round: uint32(h.num(r)), Step: st})
		return
	}
	fmt.Fprintf(b, "%s: no pending %s timer\n", n.name, step)
}

// parseStep returns the timer step of a name, for firing timers that were
// never scheduled.
func parseStep(name string) (federation.Step, bool) {
	for st := federation.StepPropose; st <= federation.StepRetry; st++ {
		if st.String() == name {
			return st, true
		}
	}
	return 0, false
}

// restart replaces n's machine as after a crash: pending timers, requests
// and inbox are lost; the new machine starts the height and replays the WAL.
func (h *harness) restart(b *strings.Builder, n *hnode) {
	m, err := federation.New(n.cfg)
	if err != nil {
		h.t.Fatalf("New(%+v)=%v", n.cfg, err)
	}
	n.m, n.timers, n.build, n.verify, n.inbox = m, nil, nil, nil, nil
	height := uint64(len(n.decided)) + 1
	h.step(b, n, federation.StartHeight{Height: height, Validators: h.setFor(height)})
	for _, rec := range n.wal {
		if (rec.Proposal != nil && rec.Proposal.Height == height) || (rec.Vote != nil && rec.Vote.Height == height) {
			h.step(b, n, federation.Replay{Message: rec})
		}
	}
}

// send injects a message as if signed by validator from= (e.g. a byzantine
// one) into the inboxes of the target nodes: type=proposal|prevote|precommit
// h= (default: the first target's height) r= block= pol=.
func (h *harness) send(b *strings.Builder, c command) {
	targets := h.targets(c)
	from := federation.ValidatorID("v" + c.arg("from", "1"))
	r := h.num(c.arg("r", "0"))
	pol, err := strconv.ParseInt(c.arg("pol", "-1"), 10, 32)
	if err != nil {
		h.t.Fatalf("send: bad pol: %v", err)
	}
	block := federation.BlockID(c.arg("block", ""))
	height := h.num(c.arg("h", strconv.FormatUint(targets[0].height, 10)))
	var m federation.Message
	switch typ := c.arg("type", "prevote"); typ {
	case "proposal":
		m.Proposal = &federation.Proposal{Height: height, Round: uint32(r), BlockID: block, POLRound: int32(pol), Proposer: from}
	default:
		vt := federation.Prevote
		if typ == "precommit" {
			vt = federation.Precommit
		}
		m.Vote = &federation.Vote{Type: vt, Height: height, Round: uint32(r), BlockID: block, Validator: from}
	}
	for _, n := range targets {
		n.inbox = append(n.inbox, m)
	}
	fmt.Fprintf(b, "queued %s\n", sim.FormatMessage(m))
}

// printState prints what the harness knows of n.
func (h *harness) printState(b *strings.Builder, n *hnode) {
	fmt.Fprintf(b, "%s: height=%d decided=%d inbox=%d wal=%d evidence=%d\n", n.name, n.height, len(n.decided), len(n.inbox), len(n.wal), n.evidence)
	for _, tm := range n.timers {
		fmt.Fprintf(b, "  pending timer: %v h%d r%d after %v\n", tm.Step, tm.Height, tm.Round, tm.After)
	}
	for _, v := range n.verify {
		fmt.Fprintf(b, "  pending verify: %q\n", v.BlockID)
	}
}

// printDecided prints every node's stored decisions.
func (h *harness) printDecided(b *strings.Builder) {
	for _, n := range h.nodes {
		var ds []string
		for _, d := range n.decided {
			ds = append(ds, fmt.Sprintf("h%d=%q(r%d)", d.Height, d.BlockID, d.Round))
		}
		fmt.Fprintf(b, "%s: %s\n", n.name, strings.Join(ds, " "))
	}
}
