//! Apply tests.
