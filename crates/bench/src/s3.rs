//! S3: ListChallenges page 1 against a deep page (page 1,000 of 100k rows at
//! 100 a page), and both against the same SQL run directly.

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use peerlab_client::{Client, pb};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement, Value};

use crate::data::{self, Db, Mix};
use crate::load;
use crate::server::{PeerlabSpec, Server};
use crate::table::{Row, Target};
use crate::{Ctx, tokens};

const S: &str = "S3";
const PAGE_SIZE: i32 = 100;

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// What the store runs for a page after challenge `after`: the statement
/// `list_challenges` of a coordinator sends on SQLite (the keyset page with
/// each row's themes), here through sea-orm/sqlx.
async fn same_sql(conn: &DatabaseConnection, after: Option<i64>) -> anyhow::Result<usize> {
    let backend = conn.get_database_backend();
    let columns = "\"challenges\".\"id\", \"challenges\".\"working_group_id\", \"challenges\".\"municipality_id\", \
        \"challenges\".\"country\", \"challenges\".\"title\", \"challenges\".\"description\", \"challenges\".\"visibility\", \
        \"challenges\".\"status\", \"challenges\".\"version\", \"challenges\".\"create_time\", \"challenges\".\"update_time\", \
        \"challenges\".\"archive_time\", (SELECT string_agg(\"theme\", ',') FROM \"challenge_themes\" \
        WHERE \"challenge_themes\".\"challenge_id\" = \"challenges\".\"id\") AS \"themes\"";
    let keyset = if after.is_some() { " AND \"challenges\".\"id\" > ?" } else { "" };
    let sql = format!(
        "SELECT {columns} FROM \"challenges\" WHERE \"challenges\".\"archive_time\" IS NULL{keyset} \
         ORDER BY \"challenges\".\"id\" ASC LIMIT ?"
    );
    let mut values: Vec<Value> = after.into_iter().map(Value::from).collect();
    values.push(i64::from(PAGE_SIZE + 1).into());
    let rows = conn.query_all(Statement::from_sql_and_values(backend, sql, values)).await?;
    let mut read = 0;
    for row in rows.iter().take(PAGE_SIZE as usize) {
        for col in ["id", "working_group_id", "municipality_id", "version", "create_time", "update_time"] {
            row.try_get::<i64>("", col)?;
        }
        for col in ["country", "title", "description", "visibility", "status"] {
            row.try_get::<String>("", col)?;
        }
        row.try_get::<Option<i64>>("", "archive_time")?;
        row.try_get::<Option<String>>("", "themes")?;
        read += 1;
    }
    Ok(read)
}

fn request(token: String) -> pb::ListChallengesRequest {
    pb::ListChallengesRequest {
        parent: "municipalities/-".into(),
        page_size: PAGE_SIZE,
        page_token: token,
        ..Default::default()
    }
}

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let n: u64 = if ctx.quick { 10_000 } else { 100_000 };
    let deep = (n / PAGE_SIZE as u64) as usize;
    let rounds = if ctx.quick { 10 } else { 50 };
    let dir = ctx.subdir("s3")?;
    let db = Db::sqlite(&dir, "s3")?;
    let store = db.store().await?;
    let net = data::seed(&store, 7, 0).await?;
    data::bulk(&store, &net, n, Mix { archived: false, content: false }).await?;
    store.close().await?;

    let server = Server::peerlab(&ctx.bins, &dir, &PeerlabSpec::new(db.url()))?;
    let client = Client::builder(server.endpoint()).bearer(tokens::coordinator()?).connect().await?;
    // Walk to the deep page as a client would, keeping its token and the id before it.
    let mut token = String::new();
    let mut before_deep = 0_i64;
    for page in 1..deep {
        let resp = client.list_challenges(request(token)).await?;
        token = resp.next_page_token;
        if token.is_empty() {
            bail!("only {page} pages of {PAGE_SIZE}");
        }
        let last = resp.challenges.last().context("empty page")?;
        before_deep = last.name.rsplit('/').next().context("bad name")?.parse()?;
    }
    let deep_token = token;
    let last = client.list_challenges(request(deep_token.clone())).await?;
    if last.challenges.len() != PAGE_SIZE as usize {
        bail!("page {deep} has {} challenges", last.challenges.len());
    }

    // Alternate page 1 and the deep page, 20 calls each per round, so drift hits both alike.
    let (mut first, mut deep_h) = (load::histogram(), load::histogram());
    for _ in 0..rounds {
        for (token, h) in [(String::new(), &mut first), (deep_token.clone(), &mut deep_h)] {
            let req = request(token);
            let hist = load::sequential(2, 20, || {
                let req = req.clone();
                let client = client.clone();
                async move { client.list_challenges(req).await.map(drop).map_err(anyhow::Error::from) }
            })
            .await?;
            h.add(&hist).map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    server.stop()?;

    let conn = Database::connect(db.url()).await?;
    let (mut sql_first, mut sql_deep) = (load::histogram(), load::histogram());
    for _ in 0..rounds {
        for (after, h) in [(None, &mut sql_first), (Some(before_deep), &mut sql_deep)] {
            let hist = load::sequential(2, 20, || async {
                let got = same_sql(&conn, after).await?;
                if got != PAGE_SIZE as usize {
                    bail!("the direct SQL returned {got} rows");
                }
                Ok(())
            })
            .await?;
            h.add(&hist).map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    conn.close().await?;

    ctx.push(
        Row::against(
            S,
            format!("ListChallenges page {deep} vs page 1 of {n} rows (p50)"),
            ms(&deep_h, 0.5),
            "ms",
            ms(&first, 0.5),
        )
        .target(Target::RatioAtMost(1.2)),
    );
    ctx.push(Row::against(
        S,
        format!("ListChallenges page {deep} vs page 1 (p99)"),
        ms(&deep_h, 0.99),
        "ms",
        ms(&first, 0.99),
    ));
    ctx.push(Row::against(
        S,
        "ListChallenges page 1 vs the same SQL run directly (p50)",
        ms(&first, 0.5),
        "ms",
        ms(&sql_first, 0.5),
    ));
    ctx.push(Row::against(
        S,
        format!("ListChallenges page {deep} vs the same SQL run directly (p50)"),
        ms(&deep_h, 0.5),
        "ms",
        ms(&sql_deep, 0.5),
    ));
    ctx.push(Row::against(
        S,
        format!("same SQL, page {deep} vs page 1 (p50)"),
        ms(&sql_deep, 0.5),
        "ms",
        ms(&sql_first, 0.5),
    ));
    ctx.note(
        S,
        format!(
            "{n} challenges with 2 themes each, SQLite; coordinator token; page_size {PAGE_SIZE}; {} sequential calls per \
             page, alternating in rounds of 20; the direct SQL is the statement the store sends (the keyset page with \
             each row's themes), through sea-orm/sqlx in the bench process (the server reads it with rusqlite on a \
             blocking thread)",
            rounds * 20
        ),
    );
    Ok(())
}
