//! Generates synthetic fleets of snapshots for the audit benchmark (bench/fleet.sh).
fn main() {}
