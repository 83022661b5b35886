//! The one integration-test binary: every test that runs the real `hardbase`.

mod util;

mod catalog;
mod checklist;
mod commands;
mod diagnostics;
mod drift;
mod drift_files;
mod drift_lockdown;
mod drift_network;
mod drift_reports;
mod flows_matrix;
mod fuzz;
mod import;
mod import_snapshot;
mod linux_collect;
mod linux_nftables;
mod linux_scripts;
mod linux_services;
mod network_consistency;
mod network_ios;
mod properties;
mod resolution;
mod role_matrix;
mod signing;
mod snapshots;
mod windows_applocker;
mod windows_bitlocker;
mod windows_collect;
mod windows_emitted;
mod windows_formats;
mod windows_kiosk;
mod windows_lockdown_names;
mod windows_lockdown_policy;
mod windows_powershell;
