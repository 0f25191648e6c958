//! The gRPC API suite.
