//! What differs between platforms, kept out of the screens: where the app keeps its data.
//!
//! - `ZONEPATROL_DATA`, if set, wins everywhere (tests, the end-to-end run, several phones on
//!   one desktop).
//! - Android: the app's private files directory, `/data/user/N/PACKAGE/files`, which is what
//!   `Context.getFilesDir()` returns. It is found from the process itself (the package name
//!   is the process name, the Android user is the uid / 100000), so no JNI and no unsafe code
//!   are needed. Uninstalling the app removes it; no permission is needed to use it.
//! - iOS: `$HOME/Library/Application Support/zonepatrol` inside the app's sandbox, which iOS
//!   backs up and keeps across updates.
//! - Desktop: `$XDG_DATA_HOME/zonepatrol`, else `$HOME/.local/share/zonepatrol`.

use std::path::PathBuf;

/// The folder under which the app keeps its store and photos.
pub fn data_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("ZONEPATROL_DATA") {
        return Ok(PathBuf::from(dir));
    }
    platform_dir()
}

#[cfg(target_os = "android")]
fn platform_dir() -> Result<PathBuf, String> {
    use std::os::unix::fs::MetadataExt;
    let cmdline =
        std::fs::read("/proc/self/cmdline").map_err(|e| format!("/proc/self/cmdline: {e}"))?;
    let uid = std::fs::metadata("/proc/self")
        .map_err(|e| format!("/proc/self: {e}"))?
        .uid();
    android_files_dir(&cmdline, uid)
        .ok_or_else(|| "the app's files directory could not be found".to_owned())
}

#[cfg(target_os = "ios")]
fn platform_dir() -> Result<PathBuf, String> {
    let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
    Ok(PathBuf::from(home).join("Library/Application Support/zonepatrol"))
}

#[cfg(not(any(target_os = "android", target_os = "ios")))]
fn platform_dir() -> Result<PathBuf, String> {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return Ok(PathBuf::from(xdg).join("zonepatrol"));
    }
    let home = std::env::var_os("HOME")
        .ok_or("set ZONEPATROL_DATA to the folder where the app keeps its data")?;
    Ok(PathBuf::from(home).join(".local/share/zonepatrol"))
}

/// An Android app's private files directory, from its process name (the first argument in
/// `/proc/self/cmdline`, `PACKAGE` or `PACKAGE:process`) and its uid.
pub fn android_files_dir(cmdline: &[u8], uid: u32) -> Option<PathBuf> {
    let name = cmdline.split(|b| *b == 0).next()?;
    let name = std::str::from_utf8(name).ok()?;
    let package = name.split(':').next()?;
    let valid = !package.is_empty()
        && package.contains('.')
        && package
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
    valid.then(|| PathBuf::from(format!("/data/user/{}/{package}/files", uid / 100_000)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_android_files_directory_comes_from_the_package_and_user() {
        assert_eq!(
            android_files_dir(b"org.zonepatrol.app\0", 10_123),
            Some(PathBuf::from("/data/user/0/org.zonepatrol.app/files"))
        );
        // A work profile is Android user 10; a secondary process has a suffix.
        assert_eq!(
            android_files_dir(b"org.zonepatrol.app:sync\0\0", 1_010_123),
            Some(PathBuf::from("/data/user/10/org.zonepatrol.app/files"))
        );
        for bad in [
            &b""[..],
            b"\0",
            b"/system/bin/app_process\0",
            b"../../etc\0",
            b"app\0",
        ] {
            assert_eq!(android_files_dir(bad, 10_123), None, "{bad:?}");
        }
    }
}
