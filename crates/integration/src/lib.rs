//! Nothing: this package holds the workspace's integration tests (`tests/`) and the gRPC example.
