//! Menu commands run in their own task: `print`/`getall`, `monitor`, unknown
//! menus and verbs, and the per-command faults.

use crate::connection::{Outgoing, fatal_sentence};
use crate::faults::Faults;
use crate::menus::{Menu, SimRow};
use crate::query::Query;
use crate::router::RouterShared;
use crate::wire::{Proplist, ReplyEncoder, encode_row};
use routeros::codec::{ProtocolError, Sentence};
use routeros::reply::attribute;
use routeros::text::lossy;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// A print flushes its buffer to the writer (and yields) past this size.
const FLUSH_BYTES: usize = 64 << 10;
/// Rows copied per step of a print.
const ROWS_PER_STEP: usize = 256;
/// Bytes that start with reserved control bytes (the `garbage` fault).
const GARBAGE: &[u8] = &[0xF8, 0xFF, 0xFE, 0xFD, 0x00, 0x21, 0x72, 0x65];
/// A word prefix announcing a 4 GiB word followed by a few bytes (`huge_word`).
const HUGE_WORD: &[u8] = &[0xF0, 0xFF, 0xFF, 0xFF, 0xFF, b'!', b'r', b'e'];
/// Default `monitor` interval.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// Shortest accepted `monitor` interval.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// Why a command stopped early.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CommandEnd {
    /// The connection's writer is gone.
    #[error("connection closed")]
    Closed,
    /// A reply could not be encoded.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// Rendering a menu panicked.
    #[error("menu rendering failed: {0}")]
    Render(#[from] tokio::task::JoinError),
}

type Result<T = ()> = std::result::Result<T, CommandEnd>;

/// What a command task needs.
pub(crate) struct CommandContext {
    pub router: Arc<RouterShared>,
    pub tx: mpsc::Sender<Outgoing>,
    pub encoder: ReplyEncoder,
    /// Set by whoever ends the command: its own `!done` or a `/cancel`.
    pub claimed: Arc<AtomicBool>,
    pub faults: Arc<Faults>,
}

impl CommandContext {
    async fn send(&self, bytes: Vec<u8>) -> Result {
        self.tx
            .send(Outgoing::Bytes(bytes))
            .await
            .map_err(|_| CommandEnd::Closed)
    }

    async fn close_with(&self, bytes: Vec<u8>) -> Result {
        self.tx
            .send(Outgoing::Close(bytes))
            .await
            .map_err(|_| CommandEnd::Closed)
    }

    /// Sends the final part of a reply (ending in `!done`) unless a `/cancel`
    /// already took over the command.
    async fn finish(&self, bytes: Vec<u8>) -> Result {
        if self.claimed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        self.send(bytes).await
    }

    /// `!trap` (optionally categorised) then `!done`.
    async fn trap_done(&self, category: Option<u8>, message: &str) -> Result {
        let mut out = Vec::new();
        self.encoder.trap(&mut out, category, message)?;
        self.encoder.sentence(&mut out, "!done", &[])?;
        self.finish(out).await
    }
}

/// Runs one command to completion (or until the connection goes away).
pub(crate) async fn run(context: CommandContext, request: Sentence) {
    if let Err(e) = execute(&context, &request).await {
        tracing::debug!(router = %context.router.config.name, "command ended early: {e}");
    }
}

async fn execute(context: &CommandContext, request: &Sentence) -> Result {
    let faults = &context.faults;
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    if let Some(reason) = &faults.fatal {
        return context.close_with(fatal_sentence(reason)).await;
    }
    if faults.garbage {
        return context.send(GARBAGE.to_vec()).await;
    }
    if faults.huge_word {
        return context.send(HUGE_WORD.to_vec()).await;
    }
    let command = request.word(0).map(lossy).unwrap_or_default();
    let (path, verb) = command.rsplit_once('/').unwrap_or(("", &command));
    if faults.denies(&command) {
        return context.trap_done(None, "not enough permissions (9)").await;
    }
    let router = &context.router;
    let menu = router
        .menus
        .get(path)
        .filter(|m| m.available(&router.config.personality) && m.installed(&router.view()));
    let Some(menu) = menu else {
        let segment = path.rsplit('/').next().unwrap_or(path);
        let mut out = Vec::new();
        let message = format!("no such command or directory ({segment})");
        context.encoder.trap(&mut out, Some(0), &message)?;
        context
            .encoder
            .trap(&mut out, None, "no such command prefix")?;
        context.encoder.sentence(&mut out, "!done", &[])?;
        return context.finish(out).await;
    };
    match verb {
        "print" | "getall" => print(context, menu, request).await,
        // `info` is RouterOS 6's LTE `monitor` (with `=number=`).
        "monitor" | "monitor-traffic" | "info"
            if menu.has_monitor_verb(verb, &router.config.personality) =>
        {
            monitor(context, menu, request).await
        }
        _ => context.trap_done(Some(0), "no such command").await,
    }
}

async fn print(context: &CommandContext, menu: &Arc<dyn Menu>, request: &Sentence) -> Result {
    let query_words: Vec<&[u8]> = request
        .words()
        .skip(1)
        .filter(|w| w.starts_with(b"?"))
        .collect();
    let query = match Query::parse(query_words.iter().copied()) {
        Ok(query) => query,
        Err(e) => return context.trap_done(Some(1), &e.to_string()).await,
    };
    let router = &context.router;
    let encoder = &context.encoder;
    let mut out = Vec::new();
    if attribute(request, "count-only").is_some() {
        let count = match menu.count(&router.view(), &query) {
            Some(count) => count,
            None => {
                let rows = rows_of(router, menu).await?;
                rows.iter().filter(|row| query.matches(row)).count()
            }
        };
        if count == 0 && router.config.personality.empty_count_without_ret {
            encoder.sentence(&mut out, "!empty", &[])?;
            encoder.sentence(&mut out, "!done", &[])?;
        } else {
            encoder.sentence(&mut out, "!done", &[("ret", count.to_string().as_bytes())])?;
        }
        return context.finish(out).await;
    }
    let proplist = attribute(request, ".proplist");
    let encoded = match router.cached_encoded_rows(menu, &query_words, proplist) {
        Some(encoded) => encoded,
        None if menu.is_static() => {
            // The first render of a large table is slow: keep it off the runtime.
            let (router, menu) = (router.clone(), menu.clone());
            let words: Vec<Vec<u8>> = query_words.iter().map(|w| w.to_vec()).collect();
            let proplist = proplist.map(<[u8]>::to_vec);
            tokio::task::spawn_blocking(move || {
                let words: Vec<&[u8]> = words.iter().map(Vec::as_slice).collect();
                router.encoded_rows(&menu, &words, &query, proplist.as_deref())
            })
            .await??
        }
        None => router.encoded_rows(menu, &query_words, &query, proplist)?,
    };
    if context.faults.drop_mid_reply {
        if let Some(first) = encoded.sentence(0) {
            encoder.append_encoded(&mut out, first)?;
        }
        return context.close_with(out).await;
    }
    let mut next = 0;
    while next < encoded.len() {
        let end = (next + ROWS_PER_STEP).min(encoded.len());
        if encoder.is_untagged() {
            out.extend_from_slice(encoded.range(next, end));
        } else {
            for i in next..end {
                if let Some(sentence) = encoded.sentence(i) {
                    encoder.append_encoded(&mut out, sentence)?;
                }
            }
        }
        next = end;
        if out.len() >= FLUSH_BYTES {
            context.send(std::mem::take(&mut out)).await?;
            tokio::task::yield_now().await;
        }
    }
    if encoded.is_empty() && router.config.personality.sends_empty() {
        encoder.sentence(&mut out, "!empty", &[])?;
    }
    encoder.sentence(&mut out, "!done", &[])?;
    context.finish(out).await
}

async fn monitor(context: &CommandContext, menu: &Arc<dyn Menu>, request: &Sentence) -> Result {
    let items: Vec<String> = attribute(request, "numbers")
        .or_else(|| attribute(request, "number"))
        .or_else(|| attribute(request, "interface"))
        .unwrap_or_default()
        .split(|&b| b == b',')
        .filter(|item| !item.is_empty())
        .map(|item| lossy(item).into_owned())
        .collect();
    if items.is_empty() {
        return context
            .trap_done(Some(1), "missing value(s) of argument(s) numbers")
            .await;
    }
    let interval = match attribute(request, "interval") {
        None => DEFAULT_INTERVAL,
        Some(raw) => match parse_interval(raw) {
            Some(interval) => interval.max(MIN_INTERVAL),
            None => {
                return context
                    .trap_done(Some(1), "invalid value for argument interval")
                    .await;
            }
        },
    };
    let once = attribute(request, "once").is_some();
    let proplist = attribute(request, ".proplist").map(Proplist::parse);
    let names = resolve_items(context, menu, &items);
    loop {
        let view = context.router.view();
        let mut rows = Vec::with_capacity(names.len());
        for name in &names {
            match menu.monitor(&view, name) {
                Some(row) => rows.push(row),
                None => return context.trap_done(Some(1), "no such item").await,
            }
        }
        let mut out = Vec::new();
        for row in &rows {
            let mut sentence = Vec::new();
            encode_row(&mut sentence, row, proplist.as_ref())?;
            context.encoder.append_encoded(&mut out, &sentence)?;
        }
        if once {
            context.encoder.sentence(&mut out, "!done", &[])?;
            return context.finish(out).await;
        }
        context.send(out).await?;
        tokio::time::sleep(interval).await;
    }
}

/// The rows of `menu`; a static menu's first render runs on the blocking pool.
async fn rows_of(router: &Arc<RouterShared>, menu: &Arc<dyn Menu>) -> Result<Arc<Vec<SimRow>>> {
    if !menu.is_static() {
        return Ok(router.rows(menu));
    }
    if let Some(rows) = router.cached_rows(menu) {
        return Ok(rows);
    }
    let (router, menu) = (router.clone(), menu.clone());
    Ok(tokio::task::spawn_blocking(move || router.rows(&menu)).await?)
}

/// Maps `.id`s (`*1`) and print-order indices to item names; names pass through.
fn resolve_items(context: &CommandContext, menu: &Arc<dyn Menu>, items: &[String]) -> Vec<String> {
    let needs_rows = items
        .iter()
        .any(|i| i.starts_with('*') || i.bytes().all(|b| b.is_ascii_digit()));
    if !needs_rows {
        return items.to_vec();
    }
    let rows = context.router.rows(menu);
    let name_of = |row: &SimRow| {
        row.iter()
            .find(|(k, _)| k == "name")
            .map(|(_, v)| lossy(v).into_owned())
    };
    items
        .iter()
        .map(|item| {
            let found = if item.starts_with('*') {
                rows.iter()
                    .find(|row| row.iter().any(|(k, v)| k == ".id" && v == item.as_bytes()))
                    .and_then(name_of)
            } else {
                item.parse::<usize>()
                    .ok()
                    .and_then(|i| rows.get(i))
                    .and_then(name_of)
            };
            found.unwrap_or_else(|| item.clone())
        })
        .collect()
}

/// Parses a RouterOS time value: `500ms`, `1s`, `2m`, `1h`, `1h30m`, or plain
/// seconds (`2`).
pub(crate) fn parse_interval(raw: &[u8]) -> Option<Duration> {
    let text = std::str::from_utf8(raw).ok()?.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let value: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let part = match unit {
            "ms" => Duration::from_millis(value),
            "s" | "" => Duration::from_secs(value),
            "m" => Duration::from_secs(value.checked_mul(60)?),
            "h" => Duration::from_secs(value.checked_mul(3600)?),
            "d" => Duration::from_secs(value.checked_mul(86_400)?),
            _ => return None,
        };
        total = total.checked_add(part)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RouterConfig;
    use crate::menus::{RouterView, row};
    use crate::personality::{Personality, Version};
    use crate::router::MenuTable;
    use crate::wire::TagPosition;
    use bytes::BytesMut;
    use routeros::codec::Decoder;

    struct Items;

    impl Menu for Items {
        fn path(&self) -> &'static str {
            "/test/items"
        }

        fn rows(&self, _view: &RouterView<'_>) -> Vec<SimRow> {
            ["a", "b", "c"]
                .iter()
                .enumerate()
                .map(|(i, name)| row([(".id", format!("*{i}")), ("name", (*name).to_owned())]))
                .collect()
        }
    }

    /// Runs one command against a router holding only [`Items`].
    async fn replies(version: &str, words: &[&str]) -> Vec<Vec<String>> {
        let mut table = MenuTable::new();
        table.insert("/test/items", Arc::new(Items) as Arc<dyn Menu>);
        let config = RouterConfig {
            personality: Personality::for_version(Version::parse(version).unwrap()),
            ..RouterConfig::v7("t")
        };
        let addr = "127.0.0.1:1".parse().unwrap();
        let router = Arc::new(RouterShared::new(0, config, Arc::new(table), addr, None));
        let (tx, mut rx) = mpsc::channel(16);
        let request = Sentence::from_words(words);
        let context = CommandContext {
            router,
            tx,
            encoder: ReplyEncoder::new(crate::connection::tag_of(&request), TagPosition::Last),
            claimed: Arc::new(AtomicBool::new(false)),
            faults: Arc::new(Faults::default()),
        };
        run(context, request).await;
        let mut wire = BytesMut::new();
        while let Some(Outgoing::Bytes(bytes) | Outgoing::Close(bytes)) = rx.recv().await {
            wire.extend_from_slice(&bytes);
        }
        let mut decoder = Decoder::default();
        let mut out = Vec::new();
        while let Some(sentence) = decoder.decode(&mut wire).unwrap() {
            out.push(sentence.words().map(|w| lossy(w).into_owned()).collect());
        }
        out
    }

    #[tokio::test]
    async fn count_only_counts_matches_without_rows() {
        assert_eq!(
            replies("7.16", &["/test/items/print", "=count-only=", "?#!"]).await,
            vec![vec!["!done", "=ret=0"]]
        );
        assert_eq!(
            replies(
                "7.18",
                &["/test/items/print", "=count-only=yes", "?name=b", ".tag=q"]
            )
            .await,
            vec![vec!["!done", "=ret=1", ".tag=q"]]
        );
    }

    /// A table too large to render: it counts itself.
    struct Huge;

    impl Menu for Huge {
        fn path(&self) -> &'static str {
            "/test/items"
        }

        fn rows(&self, _view: &RouterView<'_>) -> Vec<SimRow> {
            panic!("a count-only print must not render a huge table")
        }

        fn count(&self, _view: &RouterView<'_>, query: &Query) -> Option<usize> {
            Some(if query.is_empty() { 1_000_000 } else { 7 })
        }
    }

    #[tokio::test]
    async fn a_menu_that_counts_itself_is_never_rendered_for_count_only() {
        let mut table = MenuTable::new();
        table.insert("/test/items", Arc::new(Huge) as Arc<dyn Menu>);
        let router = RouterShared::new(
            0,
            RouterConfig::v7("t"),
            Arc::new(table),
            "127.0.0.1:1".parse().unwrap(),
            None,
        );
        for (words, expect) in [
            (vec!["/test/items/print", "=count-only="], "=ret=1000000"),
            (
                vec!["/test/items/print", "=count-only=", "?active=true"],
                "=ret=7",
            ),
        ] {
            let (tx, mut rx) = mpsc::channel(16);
            let context = CommandContext {
                router: Arc::new(RouterShared::new(
                    0,
                    RouterConfig::v7("t"),
                    router.menus.clone(),
                    "127.0.0.1:1".parse().unwrap(),
                    None,
                )),
                tx,
                encoder: ReplyEncoder::new(None, TagPosition::Last),
                claimed: Arc::new(AtomicBool::new(false)),
                faults: Arc::new(Faults::default()),
            };
            run(context, Sentence::from_words(words)).await;
            let Some(Outgoing::Bytes(bytes)) = rx.recv().await else {
                panic!("no reply");
            };
            assert!(String::from_utf8_lossy(&bytes).contains(expect));
        }
    }

    #[tokio::test]
    async fn empty_is_sent_only_from_7_18() {
        let cmd = ["/test/items/print", "?name=zzz"];
        assert_eq!(replies("7.17", &cmd).await, vec![vec!["!done"]]);
        assert_eq!(
            replies("7.18", &cmd).await,
            vec![vec!["!empty"], vec!["!done"]]
        );
        assert_eq!(replies("6.49", &cmd).await, vec![vec!["!done"]]);
    }

    #[tokio::test]
    async fn proplist_and_query_shape_rows() {
        assert_eq!(
            replies(
                "7.18",
                &["/test/items/getall", "=.proplist=name,x", "?>name=a"]
            )
            .await,
            vec![
                vec!["!re", "=name=b"],
                vec!["!re", "=name=c"],
                vec!["!done"]
            ]
        );
    }

    #[tokio::test]
    async fn unknown_verbs_and_menus_trap() {
        assert_eq!(
            replies("7.16", &["/test/items/add"]).await,
            vec![
                vec!["!trap", "=category=0", "=message=no such command"],
                vec!["!done"]
            ]
        );
        assert_eq!(replies("7.16", &["/test/nothing/print"]).await.len(), 3);
        // `info` is only RouterOS 6's LTE verb.
        assert_eq!(
            replies("6.49", &["/test/items/info", "=number=a", "=once="]).await,
            vec![
                vec!["!trap", "=category=0", "=message=no such command"],
                vec!["!done"]
            ]
        );
        assert_eq!(
            replies("7.16", &["/test/items/monitor", "=numbers=", "=once="]).await,
            vec![
                vec![
                    "!trap",
                    "=category=1",
                    "=message=missing value(s) of argument(s) numbers"
                ],
                vec!["!done"]
            ]
        );
    }

    #[tokio::test]
    async fn denied_menus_trap_not_enough_permissions() {
        let mut table = MenuTable::new();
        table.insert("/test/items", Arc::new(Items) as Arc<dyn Menu>);
        let faults = Faults {
            denied_menus: vec!["/test".into()],
            ..Faults::default()
        };
        assert!(faults.denies("/test/items") && faults.denies("/test"));
        assert!(!faults.denies("/testing") && !faults.denies("/other"));
        let router = RouterShared::new(
            0,
            RouterConfig::v7("t"),
            Arc::new(table),
            "127.0.0.1:1".parse().unwrap(),
            None,
        );
        let (tx, mut rx) = mpsc::channel(16);
        let request = Sentence::from_words(["/test/items/print"]);
        let context = CommandContext {
            router: Arc::new(router),
            tx,
            encoder: ReplyEncoder::new(None, TagPosition::Last),
            claimed: Arc::new(AtomicBool::new(false)),
            faults: Arc::new(faults),
        };
        run(context, request).await;
        let Some(Outgoing::Bytes(bytes)) = rx.recv().await else {
            panic!("no reply");
        };
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("=message=not enough permissions (9)"),
            "{text}"
        );
        assert!(text.contains("!done"), "{text}");
    }

    #[test]
    fn intervals_parse_like_routeros_times() {
        assert_eq!(parse_interval(b"1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_interval(b"2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_interval(b"250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_interval(b"1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_interval(b""), None);
        assert_eq!(parse_interval(b"soon"), None);
        assert_eq!(parse_interval(b"5x"), None);
    }
}
