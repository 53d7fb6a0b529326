//! The login throttle's counts, shared by every instance through the database and timed by
//! its clock.

use super::*;

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl crate::store::LoginCounts for PgStore {
    fn wait(&self, kind: &str, key: &[u8; 32]) -> Result<Option<Duration>, StoreError> {
        self.with(|c| {
            let left: Option<f64> = c
                .query_opt(
                    "select extract(epoch from (until - now()))::float8 from login_misses \
                     where kind = $1 and key = $2 and until > now()",
                    &[&kind, &&key[..]],
                )
                .map_err(engine)?
                .map(|r| r.get(0));
            Ok(left
                .filter(|s| *s > 0.0)
                .map(|s| Duration::from_secs_f64(s.min(1e9))))
        })
    }

    fn wrong(
        &self,
        kind: &str,
        key: &[u8; 32],
        rule: crate::store::MissRule,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            let mut tx = c.transaction().map_err(engine)?;
            // The row first, so that two instances counting at once both count.
            tx.execute(
                "insert into login_misses (kind, key, count, last, until) \
                 values ($1, $2, 0, now(), now()) on conflict (kind, key) do nothing",
                &[&kind, &&key[..]],
            )
            .map_err(engine)?;
            let row = tx
                .query_one(
                    "select count, last < now() - $3::float8 * interval '1 millisecond' \
                     from login_misses where kind = $1 and key = $2 for update",
                    &[&kind, &&key[..], &(millis(rule.forget_after) as f64)],
                )
                .map_err(engine)?;
            let (count, stale): (i32, bool) = (row.get(0), row.get(1));
            let count = if stale { 1 } else { count.saturating_add(1) };
            let wait = rule
                .wait(u32::try_from(count).unwrap_or(u32::MAX))
                .map_or(0, millis);
            tx.execute(
                "update login_misses set count = $3, last = now(), \
                 until = case when $4::float8 > 0 then now() + $4::float8 * interval '1 millisecond' else until end \
                 where kind = $1 and key = $2",
                &[&kind, &&key[..], &count, &(wait as f64)],
            )
            .map_err(engine)?;
            tx.commit().map_err(engine)
        })
    }

    fn forget(&self, kind: &str, key: &[u8; 32]) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "delete from login_misses where kind = $1 and key = $2",
                &[&kind, &&key[..]],
            )
            .map_err(engine)?;
            Ok(())
        })
    }

    fn trusted(&self, key: &[u8; 32], within: Duration) -> Result<bool, StoreError> {
        self.with(|c| {
            Ok(c.query_opt(
                "select 1 from login_trusted where key = $1 \
                 and since > now() - $2::float8 * interval '1 millisecond'",
                &[&&key[..], &(millis(within) as f64)],
            )
            .map_err(engine)?
            .is_some())
        })
    }

    fn trust(&self, key: &[u8; 32]) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "insert into login_trusted (key, since) values ($1, now()) \
                 on conflict (key) do update set since = now()",
                &[&&key[..]],
            )
            .map_err(engine)?;
            Ok(())
        })
    }
}
