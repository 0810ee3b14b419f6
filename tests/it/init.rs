//! Tests for this area live here.
