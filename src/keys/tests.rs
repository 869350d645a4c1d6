//! The key store in files, and the choice of keychain.

use super::*;
use std::fs;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;

const SID: &str = "00112233445566778899aabbccddeeff";

fn store() -> (tempfile::TempDir, KeyStore) {
    let tmp = tempfile::tempdir().unwrap();
    let ks = KeyStore::new(tmp.path().join("keys"));
    (tmp, ks)
}

#[test]
fn save_load_remove_round_trip() {
    let (_tmp, ks) = store();
    assert!(ks.load(SID).unwrap().is_none());
    let key = DataKey::generate().unwrap();
    let saved = ks.save(SID, &key).unwrap();
    let path = ks.path_for(SID);
    assert_eq!(saved.location, KeyLocation::File(path.clone()));
    assert!(saved.keychain_refused.is_none());
    assert_eq!(path.file_name().unwrap(), format!("{SID}.key").as_str());
    let loaded = ks.load(SID).unwrap().unwrap();
    assert_eq!(loaded.master(), key.master());
    assert_eq!(loaded.key_id(), key.key_id());
    // The file has exactly the documented shape.
    let v: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "format": 1, "store_id": SID, "key_id": key.key_id_hex(),
            "key": B64.encode(key.master()),
        })
    );
    // Saving again replaces the key and leaves no temporary file.
    let key2 = DataKey::generate().unwrap();
    ks.save(SID, &key2).unwrap();
    assert_eq!(ks.load(SID).unwrap().unwrap().master(), key2.master());
    let names: Vec<_> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from(format!("{SID}.key"))]);
    assert!(ks.remove(SID).unwrap());
    assert!(!ks.remove(SID).unwrap());
    assert!(ks.load(SID).unwrap().is_none());
}

#[test]
fn keys_from_before_a_rotation_are_kept_beside_the_current_one() {
    let (_tmp, ks) = store();
    let old = DataKey::generate().unwrap();
    let current = DataKey::generate().unwrap();
    let KeyLocation::File(path) = ks.save_previous(SID, &old).unwrap().location else {
        panic!("a store without a keychain saved elsewhere than a file");
    };
    assert_eq!(
        path.file_name().unwrap().to_str().unwrap(),
        format!("{SID}.{}.key", old.key_id_hex())
    );
    ks.save(SID, &current).unwrap();
    let found = ks.load_id(SID, &old.key_id_hex()).unwrap().unwrap();
    assert_eq!(found.master(), old.master());
    let found = ks.load_id(SID, &current.key_id_hex()).unwrap().unwrap();
    assert_eq!(found.master(), current.master());
    let stranger = DataKey::generate().unwrap();
    assert!(ks.load_id(SID, &stranger.key_id_hex()).unwrap().is_none());
    assert!(ks.load_id(SID, "../../etc/passwd").is_err());
    #[cfg(unix)]
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[cfg(unix)]
#[test]
fn key_file_is_0600_in_a_0700_folder_and_a_0644_file_is_refused() {
    let (_tmp, ks) = store();
    let key = DataKey::generate().unwrap();
    ks.save(SID, &key).unwrap();
    let path = ks.path_for(SID);
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    match ks.load(SID) {
        Err(e @ KeyError::Permissions { mode: 0o644, .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("mode 0644"), "{msg}");
            assert!(msg.contains("chmod 600"), "{msg}");
        }
        r => panic!("{r:?}"),
    }
    fs::set_permissions(&path, fs::Permissions::from_mode(0o620)).unwrap();
    assert!(matches!(ks.load(SID), Err(KeyError::Permissions { .. })));
    // Saving again replaces the loose file with a private one.
    ks.save(SID, &key).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert!(ks.load(SID).unwrap().is_some());
}

#[test]
fn invalid_store_ids_are_refused_before_any_path_is_used() {
    let (_tmp, ks) = store();
    let key = DataKey::generate().unwrap();
    for bad in [
        "",
        "../../etc/passwd",
        "00112233445566778899AABBCCDDEEFF",
        "00112233445566778899aabbccddeef",
        "00112233445566778899aabbccddeeff0",
        "0011223344556677/899aabbccddeeff",
    ] {
        assert!(
            matches!(ks.load(bad), Err(KeyError::Malformed { .. })),
            "{bad}"
        );
        assert!(
            matches!(ks.save(bad, &key), Err(KeyError::Malformed { .. })),
            "{bad}"
        );
        assert!(
            matches!(ks.remove(bad), Err(KeyError::Malformed { .. })),
            "{bad}"
        );
    }
    assert!(!ks.path_for(SID).parent().unwrap().exists());
}

fn write_raw(ks: &KeyStore, content: &str) {
    fs::create_dir_all(&ks.dir).unwrap();
    file::write_private(&ks.path_for(SID), content.as_bytes())
        .or_else(|_| {
            fs::remove_file(ks.path_for(SID))?;
            file::write_private(&ks.path_for(SID), content.as_bytes())
        })
        .unwrap();
}

#[test]
fn malformed_key_files_are_refused() {
    let (_tmp, ks) = store();
    let kid = "ffeeddccbbaa99887766554433221100";
    let key = B64.encode([7u8; 32]);
    let other = "0123456789abcdef0123456789abcdef";
    let cases = [
        String::new(),
        "{}".into(),
        "not json".into(),
        format!(r#"{{"format":1,"store_id":"{other}","key_id":"{kid}","key":"{key}"}}"#),
        format!(r#"{{"format":1,"store_id":"{SID}","key_id":"{kid}","key":"{key}","x":1}}"#),
        format!(r#"{{"format":0,"store_id":"{SID}","key_id":"{kid}","key":"{key}"}}"#),
        format!(r#"{{"format":2,"store_id":"{SID}","key_id":"{kid}","key":"{key}"}}"#),
        format!(
            r#"{{"format":1,"store_id":"{SID}","key_id":"{}","key":"{key}"}}"#,
            &kid[1..]
        ),
        format!(
            r#"{{"format":1,"store_id":"{SID}","key_id":"{kid}","key":"{}"}}"#,
            B64.encode([7u8; 31])
        ),
        format!(r#"{{"format":1,"store_id":"{SID}","key_id":"{kid}","key":"!!"}}"#),
        " ".repeat(5000),
    ];
    for content in &cases {
        write_raw(&ks, content);
        assert!(
            matches!(ks.load(SID), Err(KeyError::Malformed { .. })),
            "{content}"
        );
    }
    write_raw(
        &ks,
        &format!(r#"{{"format":1,"store_id":"{SID}","key_id":"{kid}","key":"{key}"}}"#),
    );
    let k = ks.load(SID).unwrap().unwrap();
    assert_eq!(k.key_id_hex(), kid);
    assert_eq!(k.master(), &[7u8; 32]);
}

#[test]
fn an_unreachable_keychain_leaves_keys_in_files() {
    let tmp = tempfile::tempdir().unwrap();
    let ks = KeyStore::with_keychain(
        tmp.path().join("keys"),
        Keychain::unavailable("no session bus"),
    );
    let key = DataKey::generate().unwrap();
    let saved = ks.save(SID, &key).unwrap();
    assert_eq!(saved.location, KeyLocation::File(ks.path_for(SID)));
    assert!(saved.keychain_refused.is_none(), "{saved:?}");
    let (loaded, location) = ks.locate(SID).unwrap().unwrap();
    assert_eq!(loaded.master(), key.master());
    assert_eq!(location, KeyLocation::File(ks.path_for(SID)));
    assert!(ks.remove(SID).unwrap());
    assert!(ks.locate(SID).unwrap().is_none());
}

#[test]
fn lore_keychain_overrides_the_setting_and_bad_values_are_refused() {
    assert_eq!(keychain_wanted(None, None), Ok(true));
    assert_eq!(keychain_wanted(None, Some(false)), Ok(false));
    assert_eq!(keychain_wanted(Some(""), Some(false)), Ok(false));
    for on in ["1", "on", "TRUE", "yes", " on "] {
        assert_eq!(keychain_wanted(Some(on), Some(false)), Ok(true), "{on}");
    }
    for off in ["0", "off", "False", "no"] {
        assert_eq!(keychain_wanted(Some(off), Some(true)), Ok(false), "{off}");
    }
    let err = keychain_wanted(Some("maybe"), None).unwrap_err();
    assert!(
        err.contains("LORE_KEYCHAIN") && err.contains("on or off"),
        "{err}"
    );
}

#[test]
fn a_keychain_entry_is_named_after_the_file_it_stands_in_for() {
    let tmp = tempfile::tempdir().unwrap();
    let ks = KeyStore::with_keychain(tmp.path().join("keys"), Keychain::unavailable("test"));
    let canonical = fs::canonicalize(tmp.path()).unwrap();
    assert_eq!(
        ks.account(&ks.path_for(SID)),
        canonical
            .join("keys")
            .join(format!("{SID}.key"))
            .to_string_lossy()
    );
}

#[test]
fn the_entry_name_is_the_same_before_and_after_the_home_exists() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("not-yet").join(".lore");
    let before = KeyStore::with_keychain(home.join("keys"), Keychain::unavailable("test"));
    let name_before = before.account(&before.path_for(SID));
    fs::create_dir_all(home.join("keys")).unwrap();
    let after = KeyStore::with_keychain(home.join("keys"), Keychain::unavailable("test"));
    assert_eq!(after.account(&after.path_for(SID)), name_before);
    let canonical = fs::canonicalize(tmp.path()).unwrap();
    assert_eq!(
        name_before,
        canonical
            .join("not-yet/.lore/keys")
            .join(format!("{SID}.key"))
            .to_string_lossy()
    );
    // Through a symbolic link to the home, the name is the resolved one.
    #[cfg(unix)]
    {
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&home, &link).unwrap();
        let linked = KeyStore::with_keychain(link.join("keys"), Keychain::unavailable("test"));
        assert_eq!(linked.account(&linked.path_for(SID)), name_before);
    }
}
