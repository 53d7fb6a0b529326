//! The group room: a mining group's mines served by one server (company → mine → branch).
//!
//! A server given no mines serves one mine at its root, as it always has: its mine is
//! implicit. Given mines (`serve --mines dongtan=东滩煤矿,baodian=鲍店煤矿`), it serves each
//! under `/m/ID/` with a store of its own — a directory `DATA/mines/ID/`, or a schema
//! `zp_mine_ID` of the database — so that every document, account, sign-in, cursor and rule
//! set belongs to one mine, and no request to one mine's routes can reach another's records.
//! The group's own accounts (its managers, who read every mine) live beside them
//! (`DATA/group/`, schema `zp_group`) and sign in at the root, where the group overview shows
//! each mine's results side by side.
//!
//! - here: [`Mine`] (an id and a name, read from the settings), [`Place`] (what one opened
//!   store serves), and where each mine's store lives.
//! - `serve.rs`: opening the group's stores and its routes.

mod serve;

pub(crate) use serve::{open, router};

use std::path::{Path, PathBuf};

/// One mine of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mine {
    /// Its id in addresses (`/m/ID/`) and store names: lower-case letters, digits and `-`.
    pub id: String,
    /// Its name, as people read it (东滩煤矿).
    pub name: String,
}

/// The most mines one server serves.
pub const MAX_MINES: usize = 200;

impl Mine {
    /// The mines of a setting: `ID=NAME` pairs separated by commas (`dongtan=东滩煤矿,
    /// baodian=鲍店煤矿`). An empty setting is no mines: one mine served alone.
    pub fn parse_list(text: &str) -> Result<Vec<Mine>, String> {
        let mut mines: Vec<Mine> = Vec::new();
        for item in text
            .split([',', '，', '\n'])
            .map(str::trim)
            .filter(|i| !i.is_empty())
        {
            let Some((id, name)) = item.split_once(['=', '＝']) else {
                return Err(format!(
                    "“{item}” names no mine: write each as ID=NAME, such as dongtan=东滩煤矿"
                ));
            };
            let mine = Mine {
                id: id.trim().to_owned(),
                name: name.trim().to_owned(),
            };
            mine.check()?;
            if mines.iter().any(|m| m.id == mine.id) {
                return Err(format!("the mine “{}” is named twice", mine.id));
            }
            mines.push(mine);
        }
        if mines.len() > MAX_MINES {
            return Err(format!(
                "{} mines: one server serves at most {MAX_MINES}; serve the rest from another",
                mines.len()
            ));
        }
        Ok(mines)
    }

    /// A mine named by its id alone (for the command line's tools, which need no name), if
    /// the id may name one.
    pub fn from_id(id: &str) -> Result<Mine, String> {
        let mine = Mine {
            id: id.to_owned(),
            name: id.to_owned(),
        };
        mine.check()?;
        Ok(mine)
    }

    fn check(&self) -> Result<(), String> {
        let id = &self.id;
        let fits = (1..=32).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !id.starts_with('-')
            && !id.ends_with('-');
        if !fits || id == "group" {
            return Err(format!(
                "“{id}” cannot be a mine's id: 1 to 32 lower-case letters, digits and -, such as \
                 dongtan or mine-3 (“group” is the group's own)"
            ));
        }
        let chars = self.name.chars().count();
        if chars == 0 || chars > 40 || self.name.chars().any(char::is_control) {
            return Err(format!(
                "the mine “{id}” needs a name of 1 to 40 characters, such as {id}=东滩煤矿"
            ));
        }
        Ok(())
    }

    /// Where its directory is, in a group's data directory: its sled store and photos
    /// when there is no database.
    pub fn dir(&self, data: &Path) -> PathBuf {
        data.join("mines").join(&self.id)
    }

    /// Its schema in the group's database.
    pub fn schema(&self) -> String {
        format!("zp_mine_{}", self.id.replace('-', "_"))
    }

    /// Where its routes are: `/m/ID`.
    pub fn base(&self) -> String {
        format!("/m/{}", self.id)
    }
}

/// What one opened store serves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Place {
    /// A mine served alone, at the root: the default, and every server before groups.
    #[default]
    Alone,
    /// One mine of a group, under `/m/ID/`.
    Mine(Mine),
    /// The group's own accounts, at the root.
    Group,
}

/// Refuses a data directory laid out for the other way of serving: a mine's own store at the
/// root when serving a group (its data would seem gone), or a group's mines when serving one
/// mine alone.
pub fn check_layout(settings: &crate::Settings) -> Result<(), crate::LaunchError> {
    let data = &settings.data_dir;
    let refuse = |why: String| crate::LaunchError::Io {
        dir: data.clone(),
        source: std::io::Error::other(why),
    };
    let alone = data.join("store").exists() && !data.join(crate::store::format::MOVED).exists();
    let grouped = data.join("mines").exists() || data.join("group").exists();
    if !settings.mines.is_empty() && alone {
        return Err(refuse(format!(
            "it holds a mine served alone (store/), and a group keeps each mine in mines/ID: \
             serve it without --mines, or make it one of the group's mines by moving its \
             files into {}/mines/ID (on PostgreSQL: `migrate --from OLD --to postgres://… \
             --mine ID`)",
            data.display()
        )));
    }
    if settings.mines.is_empty() && grouped {
        return Err(refuse(
            "it holds a group's mines (mines/, group/): serve it with --mines as before \
             (the mines setting), or name another directory for a mine served alone"
                .to_owned(),
        ));
    }
    Ok(())
}

/// The group's schema in its database.
pub const GROUP_SCHEMA: &str = "zp_group";

/// The group's directory in its data directory.
pub fn group_dir(data: &Path) -> PathBuf {
    data.join("group")
}

impl Place {
    /// Where its routes are: `` at the root, `/m/ID` for a mine of a group.
    pub fn base(&self) -> String {
        match self {
            Place::Mine(mine) => mine.base(),
            Place::Alone | Place::Group => String::new(),
        }
    }

    /// Its schema in a database: the default one for a mine alone.
    pub fn schema(&self) -> Option<String> {
        match self {
            Place::Alone => None,
            Place::Mine(mine) => Some(mine.schema()),
            Place::Group => Some(GROUP_SCHEMA.to_owned()),
        }
    }

    /// Its id in logs and metrics: `mine` alone, the mine's id, or `group`.
    pub fn label(&self) -> &str {
        match self {
            Place::Alone => "mine",
            Place::Mine(mine) => &mine.id,
            Place::Group => "group",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mines_are_read_from_a_setting_and_bad_ones_are_said() {
        let mines =
            Mine::parse_list("dongtan=东滩煤矿, baodian = 鲍店煤矿，mine-3=三号矿").expect("mines");
        assert_eq!(
            mines.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            ["dongtan", "baodian", "mine-3"]
        );
        assert_eq!(mines[1].name, "鲍店煤矿");
        assert_eq!(mines[2].schema(), "zp_mine_mine_3");
        assert_eq!(mines[0].base(), "/m/dongtan");
        assert!(Mine::parse_list("").expect("none").is_empty());
        for bad in [
            "dongtan",
            "Dongtan=东滩",
            "dong_tan=东滩",
            "-x=东滩",
            "../a=东滩",
            "a=",
            "a=x,a=y",
            "group=集团",
        ] {
            let e = Mine::parse_list(bad).expect_err(bad);
            assert!(!e.is_empty());
        }
    }
}
