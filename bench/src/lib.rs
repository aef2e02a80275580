//! The scps benchmark (issue 18): a deterministic data generator at three scales, and a load
//! runner that drives a release `scps serve` on that data and reports per operation.

pub mod generate;
pub mod runner;
