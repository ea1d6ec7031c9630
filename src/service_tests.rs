//! Unit tests of `service`: a fake `Client` and scripted AJP13 peers on loopback sockets.
