//! Apply-Hardbase.ps1, Restore-Hardbase.ps1 and the acceptance kit (Windows PowerShell 5.1).
