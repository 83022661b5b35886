//! The desired state: a resolved profile, target-neutral, every setting knowing its origin.
//!
//! This is the hand-off point between the front half (load, resolve,
//! validate) and every emitter and report. Nothing here refers back to the
//! TOML trees; spans remain so that a report or a later drift line can point
//! at the catalog or profile line responsible.

use crate::catalog::param::{ParamType, ParamValue};
use crate::catalog::setting::{ApplyPhase, Scope, SettingKind};
use crate::catalog::taxonomy::{Membership, Platform, Role, Tier};
use crate::catalog::Control;
use crate::load::document::Date;
use crate::load::profile::{Attestation, Waiver};
use crate::source::Span;

/// The identity of a resolved profile.
#[derive(Clone, Debug)]
pub struct ProfileInfo {
    pub name: String,
    pub description: Option<String>,
    pub role: Role,
    pub platform: &'static Platform,
    pub membership: Option<Membership>,
    pub tiers: Vec<Tier>,
    /// How the generated scripts are signed (`[signing]`), from the nearest layer that says.
    pub signing: Option<crate::load::profile::Signing>,
    /// Every file that contributed, parents first, the profile itself last.
    pub layers: Vec<String>,
    /// The profile's own `[profile]` table.
    pub span: Span,
}

/// Whether and how a control is enforced on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlStatus {
    /// Its settings are enforced as the baseline says.
    Enforced,
    /// Enforced with parameters weaker than the baseline, under a waiver.
    Weakened,
    /// Not enforced, under a waiver.
    Excluded,
    /// No machine setting: checked by evidence and attested.
    Manual,
}

/// One setting to enforce, with its origin.
#[derive(Clone, Debug)]
pub struct DesiredSetting {
    pub control: String,
    pub kind: SettingKind,
    /// What the setting sets (see [`SettingKind::target`]).
    pub target: String,
    pub phase: ApplyPhase,
    pub reboot: bool,
    pub scope: Scope,
    /// OS builds the setting applies to.
    pub min_build: Option<u32>,
    pub max_build: Option<u32>,
    /// The `[[control.setting]]` table that declares it.
    pub origin: Span,
    /// The profile values substituted into it: (parameter, where the value was set).
    pub params: Vec<(String, Option<Span>)>,
}

/// A control selected for the profile.
#[derive(Clone, Debug)]
pub struct ControlState {
    /// The catalog's control, shared with the catalog and other profiles.
    pub control: std::sync::Arc<Control>,
    pub status: ControlStatus,
    pub waiver: Option<Waiver>,
    /// The waiver had expired on the evaluation day (only when auditing; building refuses it).
    pub waiver_expired: bool,
    pub attestation: Option<Attestation>,
    pub settings: Vec<DesiredSetting>,
    /// Why the control is in the profile: the role baseline, or an `include` entry.
    pub included_by: Option<Span>,
}

/// A parameter value in effect.
#[derive(Clone, Debug)]
pub struct ParamState {
    pub name: String,
    pub ty: ParamType,
    pub value: ParamValue,
    /// Where the value was set; `None` for a catalog default (or a secret).
    pub origin: Option<Span>,
    /// The controls that use it.
    pub used_by: Vec<String>,
}

/// A resolved, validated profile.
#[derive(Clone, Debug)]
pub struct DesiredState {
    pub profile: ProfileInfo,
    /// Sorted by category, then id.
    pub controls: Vec<ControlState>,
    /// Sorted by name.
    pub params: Vec<ParamState>,
    /// Every value the profile's layers set, whether or not a selected control uses it (the flow
    /// matrix reads the machine's own network from these).
    pub set_params: std::collections::BTreeMap<String, ParamValue>,
    /// The network flows the role needs, with the profile's addresses.
    pub flows: Vec<crate::catalog::flow::FlowInstance>,
    /// The date waivers were evaluated against.
    pub evaluated_at: Date,
}

impl DesiredState {
    pub fn settings(&self) -> impl Iterator<Item = &DesiredSetting> {
        self.controls.iter().flat_map(|c| c.settings.iter())
    }

    /// Secrets that must be supplied when Apply runs.
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = self.settings().flat_map(|s| s.kind.secrets()).collect();
        out.sort();
        out.dedup();
        out
    }

    /// Local accounts named by settings; resolved to SIDs when Apply runs.
    pub fn local_principals(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .settings()
            .flat_map(|s| s.kind.local_principals())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}
