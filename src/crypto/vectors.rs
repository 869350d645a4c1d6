//! The known-answer vectors of docs/store-format.md ("Test vectors"), checked against the code.
//!
//! The vectors are read from the document itself, so the two cannot drift apart. Run with
//! `LORE_PRINT_VECTORS=1 cargo test --lib vectors -- --nocapture` to print what the code computes.

use super::*;

const DOC: &str = include_str!("../../docs/store-format.md");

/// The `name = value` lines of the first fenced block after "## Test vectors".
fn doc_vectors() -> Vec<(String, String)> {
    let section = DOC.split("## Test vectors").nth(1).unwrap_or("");
    let block = section.split("```").nth(1).unwrap_or("");
    block
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn bytes(start: u8, n: usize) -> Vec<u8> {
    (0..n).map(|i| start.wrapping_add(i as u8)).collect()
}

/// What the code computes for the fixed inputs, in the document's order.
fn computed() -> Vec<(String, String)> {
    let master: [u8; 32] = bytes(0x00, 32).try_into().unwrap_or([0; 32]);
    let store_id: [u8; 16] = bytes(0xa0, 16).try_into().unwrap_or([0; 16]);
    let key_id: [u8; 16] = bytes(0xb0, 16).try_into().unwrap_or([0; 16]);
    let epoch: u64 = 2;
    let key = DataKey::from_parts(key_id, &master);
    let key_check_v2 = hmac32(
        &master,
        &[b"lore.key-check.v2", &store_id, &epoch.to_be_bytes()],
    );
    let key_check_v1 = hmac32(&master, &[b"lore.key-check.v1", &store_id]);
    let manifest = Manifest {
        epoch,
        seq: 3,
        parents: vec!["1".repeat(40), "2".repeat(40)],
        header: "3".repeat(40),
        sessions: Some("4".repeat(40)),
        commit: b"author lore <lore@localhost> 1700000000 +0000\ncommitter lore <lore@localhost> 1700000000 +0000\n\nlore: sync 1 session\n".to_vec(),
    };
    let sealed_manifest = seal_manifest(&key, &store_id, &manifest).unwrap_or_default();
    let meta = br#"{"git_branch":"main","id":"s1","machine_id":"m","message_count":1,"started_at":1,"tool":"claude","updated_at":2}"#;
    let record = br#"{"deleted_at":2,"format":1,"id":"s1","kind":"tombstone"}"#;
    let sealed = seal(&key, &store_id, "s1", meta, record).unwrap_or_default();
    let machine_secret: [u8; 32] = bytes(0xc0, 32).try_into().unwrap_or([0; 32]);
    vec![
        ("master".into(), hex(&master)),
        ("store_id".into(), hex(&store_id)),
        ("key_id".into(), hex(&key_id)),
        ("epoch".into(), epoch.to_string()),
        ("key_check_v1".into(), hex(&key_check_v1)),
        ("key_check_v2".into(), hex(&key_check_v2)),
        ("enc_key".into(), hex(key.enc_key())),
        ("nonce_key".into(), hex(key.nonce_key())),
        ("manifest_key".into(), hex(key.manifest_key())),
        ("manifest_seq".into(), manifest.seq.to_string()),
        ("manifest_parents".into(), manifest.parents.join(",")),
        ("manifest_header".into(), manifest.header.clone()),
        (
            "manifest_sessions".into(),
            manifest.sessions.clone().unwrap_or_default(),
        ),
        ("manifest_commit_b64".into(), {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(&manifest.commit)
        }),
        ("manifest_blob".into(), hex(&sealed_manifest)),
        ("record_id".into(), "s1".into()),
        (
            "record_meta".into(),
            String::from_utf8_lossy(meta).into_owned(),
        ),
        (
            "record".into(),
            String::from_utf8_lossy(record).into_owned(),
        ),
        // lore before padding wrote version 1; it cannot be computed any more, only opened.
        ("record_enc_v1".into(), String::new()),
        ("record_enc".into(), hex(&sealed)),
        (
            "padme".into(),
            [0usize, 3, 9, 100, 1000, 1025, 65_537, 1_048_577, 67_174_532]
                .iter()
                .map(|&n| format!("{n}:{}", padme(n)))
                .collect::<Vec<_>>()
                .join(","),
        ),
        ("machine_secret".into(), hex(&machine_secret)),
        (
            "store_machine_id".into(),
            store_machine_id(&machine_secret, &store_id),
        ),
    ]
}

#[test]
fn the_documents_vectors_are_what_the_code_computes() {
    let computed = computed();
    if std::env::var_os("LORE_PRINT_VECTORS").is_some() {
        for (k, v) in &computed {
            println!("{k} = {v}");
        }
    }
    let doc = doc_vectors();
    assert_eq!(
        doc.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        computed.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        "docs/store-format.md lists other vectors than the code checks"
    );
    for ((name, want), (_, got)) in doc.iter().zip(&computed) {
        // `.enc` holds lore's own deflate stream, which another compressor need not
        // reproduce: it must open to the record. Everything else must match exactly.
        if name == "record_enc" || name == "record_enc_v1" {
            let master: [u8; 32] = bytes(0x00, 32).try_into().unwrap_or([0; 32]);
            let key = DataKey::from_parts(bytes(0xb0, 16).try_into().unwrap_or([0; 16]), &master);
            let blob: Vec<u8> = (0..want.len() / 2)
                .map(|i| u8::from_str_radix(&want[2 * i..2 * i + 2], 16).unwrap_or(0))
                .collect();
            let meta = &doc.iter().find(|(k, _)| k == "record_meta").unwrap().1;
            let record = &doc.iter().find(|(k, _)| k == "record").unwrap().1;
            let store_id: [u8; 16] = bytes(0xa0, 16).try_into().unwrap_or([0; 16]);
            let opened = open(&key, &store_id, "s1", meta.as_bytes(), &blob).unwrap();
            assert_eq!(opened, record.as_bytes(), "vector {name}");
            let version = if name == "record_enc" { 2 } else { 1 };
            assert_eq!(blob[4], version, "vector {name}");
            continue;
        }
        assert_eq!(want, got, "vector {name}");
    }
    // The manifest vector opens to what it was made of.
    let (_, blob) = computed.iter().find(|(k, _)| k == "manifest_blob").unwrap();
    assert!(!blob.is_empty());
}
