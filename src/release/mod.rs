//! Release tooling: version coherence gates and changelog preparation.
