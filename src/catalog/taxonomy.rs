//! The fixed vocabularies of the domain: roles, platforms, categories, tiers and attack steps.
//!
//! These are closed sets known at compile time. Each carries its English and
//! Japanese names (the Japanese terms are the CCDS analysis's own) so every
//! report renders from one definition.

use serde::Serialize;

/// A language for people-facing output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Ja,
}

/// Text in both languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Text {
    pub en: String,
    pub ja: String,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ja => &self.ja,
        }
    }
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $id:literal, $en:literal, $ja:literal;)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        pub enum $name { $($variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The identifier used in TOML and JSON.
            pub fn id(self) -> &'static str {
                match self { $($name::$variant => $id,)* }
            }

            pub fn from_id(id: &str) -> Option<$name> {
                match id { $($id => Some($name::$variant),)* _ => None }
            }

            pub fn ids() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.id()).collect()
            }

            pub fn name(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $(($name::$variant, Lang::En) => $en, ($name::$variant, Lang::Ja) => $ja,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.id())
            }
        }
    };
}

vocabulary! {
    /// What a machine is for in an unattended-terminal system.
    Role {
        AtmTerminal = "atm-terminal", "ATM terminal", "ATM端末";
        KioskTerminal = "kiosk-terminal", "Kiosk terminal (Linux)", "キオスク端末（Linux）";
        RelayServer = "relay-server", "Relay server", "間接サーバ（中継サーバ）";
        MonitoringServer = "monitoring-server", "Monitoring server", "監視サーバ";
        ManagementServer = "management-server", "Management server", "管理サーバ";
        NetworkDevice = "network-device", "Network device", "ネットワーク機器";
    }
}

vocabulary! {
    /// The CCDS grouping: the three minimizations, detection, and checklist-only items.
    Category {
        Communication = "communication", "Communication minimization", "通信の最小化";
        Function = "function", "Function minimization", "機能の最小化";
        Privilege = "privilege", "Privilege minimization", "権限の最小化";
        Detection = "detection", "Detection with OS features", "OS機能による侵入・攻撃検知";
        Physical = "physical", "Physical", "物理";
        Operations = "operations", "Operations", "運用";
    }
}

vocabulary! {
    /// How a control is prioritized.
    Tier {
        Easy = "easy", "Easy", "取り組みやすい対策";
        CostEffective = "cost-effective", "Cost-effective", "コストパフォーマンスの良い対策";
    }
}

/// The Japanese and English names of the short-term flag.
pub fn short_term_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Short-term",
        Lang::Ja => "短期の対応",
    }
}

vocabulary! {
    /// The steps of an attack on an unattended terminal, as the CCDS analysis orders them.
    AttackStep {
        PhysicalAccess = "PA", "Physical access to the terminal", "端末への物理的アクセス";
        BootTampering = "BT", "Boot from external media or offline disk access", "外部媒体からの起動・ディスクの不正読み書き";
        RogueUsb = "USB", "Rogue USB or HID device", "不正なUSB機器の接続";
        NetworkTap = "NW", "Network tapping or man-in-the-middle to the host", "ネットワークの盗聴・中間者攻撃";
        LateralMovement = "LM", "Lateral movement", "横展開（ラテラルムーブメント）";
        IndirectServer = "IS", "Takeover of the indirect (relay) server", "間接サーバの乗っ取り";
        FraudulentDispense = "FD", "Fraudulent dispense command", "不正な出金命令";
        LogTampering = "LT", "Log tampering", "ログの改ざん・消去";
    }
}

vocabulary! {
    /// Operating-system family: decides which setting kinds and artefacts apply.
    Family {
        Windows = "windows", "Windows", "Windows";
        Linux = "linux", "Linux", "Linux";
        Network = "network", "Network device OS", "ネットワーク機器OS";
    }
}

vocabulary! {
    /// How a Windows machine is managed; decides delivery, time source and log transport.
    Membership {
        Workgroup = "workgroup", "Workgroup", "ワークグループ";
        Domain = "domain", "Domain member", "ドメイン参加";
    }
}

/// A supported operating-system release.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Platform {
    pub id: &'static str,
    pub family: Family,
    /// Windows: the OS build number; Linux: the major release; network: 0.
    pub build: u32,
    pub name: &'static str,
    /// Roles this platform can serve.
    pub roles: &'static [Role],
}

const TERMINAL: &[Role] = &[Role::AtmTerminal];
const SERVER: &[Role] = &[
    Role::RelayServer,
    Role::MonitoringServer,
    Role::ManagementServer,
];
const LINUX: &[Role] = &[
    Role::KioskTerminal,
    Role::RelayServer,
    Role::MonitoringServer,
    Role::ManagementServer,
];
const NETWORK: &[Role] = &[Role::NetworkDevice];

/// Every platform hardbase knows, in a stable order.
pub const PLATFORMS: &[Platform] = &[
    Platform {
        id: "windows-10-iot-ltsc-2019",
        family: Family::Windows,
        build: 17763,
        name: "Windows 10 IoT Enterprise LTSC 2019",
        roles: TERMINAL,
    },
    Platform {
        id: "windows-10-iot-ltsc-2021",
        family: Family::Windows,
        build: 19044,
        name: "Windows 10 IoT Enterprise LTSC 2021",
        roles: TERMINAL,
    },
    Platform {
        id: "windows-11-iot-ltsc-2024",
        family: Family::Windows,
        build: 26100,
        name: "Windows 11 IoT Enterprise LTSC 2024",
        roles: TERMINAL,
    },
    Platform {
        id: "windows-server-2019",
        family: Family::Windows,
        build: 17763,
        name: "Windows Server 2019",
        roles: SERVER,
    },
    Platform {
        id: "windows-server-2022",
        family: Family::Windows,
        build: 20348,
        name: "Windows Server 2022",
        roles: SERVER,
    },
    Platform {
        id: "debian-12",
        family: Family::Linux,
        build: 12,
        name: "Debian 12",
        roles: LINUX,
    },
    Platform {
        id: "rhel-9",
        family: Family::Linux,
        build: 9,
        name: "Red Hat Enterprise Linux 9 (and rebuilds)",
        roles: LINUX,
    },
    Platform {
        id: "cisco-ios",
        family: Family::Network,
        build: 0,
        name: "Cisco IOS",
        roles: NETWORK,
    },
    Platform {
        id: "cisco-ios-xe",
        family: Family::Network,
        build: 0,
        name: "Cisco IOS XE",
        roles: NETWORK,
    },
];

pub fn platform(id: &str) -> Option<&'static Platform> {
    PLATFORMS.iter().find(|p| p.id == id)
}

pub fn platform_ids() -> Vec<&'static str> {
    PLATFORMS.iter().map(|p| p.id).collect()
}
