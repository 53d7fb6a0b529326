//! The demo mine: accounts and branch directories, seeded into an empty store.
//!
//! Two branches so that branch boundaries can be seen: 综采一队 (`zcyd`, four zones, a
//! secretary, five inspectors, four zone holders, a team leader) and 掘进一队 (`jdyd`, one
//! zone), plus a manager and an admin for the whole company. Every demo account has the
//! password [`DEMO_PASSWORD`].

use std::collections::BTreeMap;

use automerge::ActorId;
use automerge::transaction::CommitOptions;
use sha2::{Digest, Sha256};
use zonepatrol_shared::Role;
use zonepatrol_shared::docs::{
    self, BranchInfo, Directory, DocError, DocId, Document, Member, Zone,
};

use crate::auth::{self, AccountError};
use crate::demo;
use crate::store::{DocWrite, Storage, StoreError};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "zonepatrol";

/// The demo accounts: name, role, branch, display name.
pub const DEMO_USERS: [(&str, Role, &str, &str); 16] = [
    ("sec", Role::Secretary, "zcyd", "王书记"),
    ("zhao", Role::Inspector, "zcyd", "赵检查"),
    ("qian", Role::Inspector, "zcyd", "钱检查"),
    ("sun", Role::Inspector, "zcyd", "孙检查"),
    ("li", Role::Inspector, "zcyd", "李检查"),
    ("zhou", Role::Inspector, "zcyd", "周检查"),
    ("h1", Role::ZoneHolder, "zcyd", "张师傅"),
    ("h2", Role::ZoneHolder, "zcyd", "刘师傅"),
    ("h3", Role::ZoneHolder, "zcyd", "陈师傅"),
    ("h4", Role::ZoneHolder, "zcyd", "杨师傅"),
    ("tl", Role::TeamLeader, "zcyd", "黄班长"),
    ("sec2", Role::Secretary, "jdyd", "吴书记"),
    ("h5", Role::ZoneHolder, "jdyd", "郑师傅"),
    ("zhu", Role::Inspector, "jdyd", "朱检查"),
    ("mgr", Role::Manager, "hq", "党委组织部"),
    ("admin", Role::Admin, "hq", "系统管理员"),
];

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// An account could not be made.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// A document could not be made.
    #[error(transparent)]
    Doc(#[from] DocError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The actor the server writes its own changes with.
pub fn server_actor() -> ActorId {
    ActorId::from(&Sha256::digest(b"zonepatrol server")[..16])
}

fn directory(branch: &str, name: &str, zones: &[(&str, &str, &str)]) -> Directory {
    let mut d = Directory::born(docs::Header::for_id(&DocId::Directory {
        branch: branch.to_owned(),
    }));
    d.info = BranchInfo {
        name: name.to_owned(),
        category: 1,
    };
    d.templates.insert("t1".to_owned(), demo::template());
    for (id, zone_name, holder) in zones {
        d.zones.insert(
            (*id).to_owned(),
            Zone {
                name: (*zone_name).to_owned(),
                location: String::new(),
                holders: BTreeMap::from([((*holder).to_owned(), true)]),
                teams: BTreeMap::new(),
                template: "t1".to_owned(),
                active: true,
            },
        );
    }
    for (user, _, b, display) in DEMO_USERS {
        if b == branch {
            d.members.insert(
                user.to_owned(),
                Member {
                    name: display.to_owned(),
                    group: String::new(),
                    team: String::new(),
                },
            );
        }
    }
    d
}

/// Stores a document the server itself writes (born at genesis, then written by the server).
pub fn store_server_doc<D: Document>(
    store: &dyn Storage,
    value: &D,
    now: i64,
) -> Result<(), SeedError> {
    let id: DocId =
        value
            .header()
            .id
            .parse()
            .map_err(|e: docs::DocIdError| DocError::WrongDocument {
                expected: D::KIND,
                id: value.header().id.clone(),
                found: e.to_string(),
            })?;
    let mut doc = docs::genesis::<D>(&id)?;
    doc.set_actor(server_actor());
    docs::write(&mut doc, value)?;
    doc.commit_with(CommitOptions::default().with_time(now / 1000));
    store.write_doc(&DocWrite {
        id: id.to_string(),
        chunk: doc.save(),
        compact: true,
        heads: doc.get_heads(),
        actors: vec![(server_actor().to_bytes().to_vec(), "server".to_owned())],
    })?;
    Ok(())
}

/// Seeds the demo mine if the store has no users yet; returns whether it did.
pub fn demo_mine(store: &dyn Storage) -> Result<bool, SeedError> {
    if !store.users()?.is_empty() {
        return Ok(false);
    }
    let now = crate::now_millis();
    let zcyd_zones: Vec<(&str, &str, &str)> = demo::ZONES
        .iter()
        .zip(["h1", "h2", "h3", "h4"])
        .map(|(&(id, name), holder)| (id, name, holder))
        .collect();
    store_server_doc(
        store,
        &directory("zcyd", "综采一队党支部", &zcyd_zones),
        now,
    )?;
    store_server_doc(
        store,
        &directory("jdyd", "掘进一队党支部", &[("j1", "掘进迎头", "h5")]),
        now,
    )?;
    // Hashing a password takes a while by design: use both cores.
    let (first, second) = DEMO_USERS.split_at(DEMO_USERS.len() / 2);
    std::thread::scope(|s| {
        let add = |users: &[(&str, Role, &str, &str)]| {
            users.iter().try_for_each(|&(user, role, branch, _)| {
                auth::add_user(store, user, DEMO_PASSWORD, role, branch, now)
            })
        };
        let other = s.spawn(move || add(second));
        add(first)?;
        other
            .join()
            .unwrap_or_else(|_| Err(AccountError::Hash("a hashing thread failed".into())))
    })?;
    store.flush()?;
    Ok(true)
}
