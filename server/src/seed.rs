//! The demo mine: accounts and branch directories, seeded into an empty store.
//!
//! Two branches so that branch boundaries can be seen: 综采一队 (`zcyd`, four zones, a
//! secretary, five inspectors, four zone holders, a team leader) and 掘进一队 (`jdyd`, one
//! zone), plus a manager and an admin for the whole company. Every demo account has the
//! password [`DEMO_PASSWORD`].

use std::collections::BTreeMap;

use zonepatrol_shared::Role;
use zonepatrol_shared::docs::{
    self, BranchInfo, Directory, DocError, DocId, Document, Member, Zone,
};

use crate::auth::{self, AccountError};
use crate::demo;
use crate::store::writer::{ServerDoc, WriteError};
use crate::store::{Storage, StoreError};

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
    /// A document could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

fn directory(branch: &str, name: &str, zones: &[(&str, &str, &str)]) -> Directory {
    let mut d = Directory::born(docs::Header::for_id(&DocId::directory(branch)));
    d.info = BranchInfo {
        name: name.to_owned(),
        category: 1,
        retired: false,
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
                shares: BTreeMap::new(),
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

/// Stores a new document the server itself writes (born at genesis, then written by the
/// server's actor), over whatever the store holds under its id.
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
    let mut doc = ServerDoc::born::<D>(&id)?;
    doc.write(value)?;
    // No facts kept: the start reads the few documents the server seeds.
    doc.save(store, now, None)?;
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
                auth::add_user(store, user, DEMO_PASSWORD, &[role], branch, now)
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
