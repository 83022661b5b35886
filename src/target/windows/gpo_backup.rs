//! The GPO backup folder that `Import-GPO` and `LGPO.exe /g` read.
