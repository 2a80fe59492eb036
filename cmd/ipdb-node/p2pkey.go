package main

import "github.com/ipdb/ipdb-node/node"

// setP2PKey hands the home's node key to the node as its libp2p identity.
func setP2PKey(o *node.Options, k nodeKey) { o.P2PKey = k.priv }
