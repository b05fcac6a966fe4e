//! Wire-level tests of the simulator with a hand-rolled client built only from the
//! codec: every byte the simulator sends is checked as a real client would see it.

use bytes::BytesMut;
use routeros::codec::{Decoder, ProtocolError, encode_sentence};
use routeros::login::response_to_challenge;
use routeros_sim::menus::{self, Menu, RouterView, SimRow, row};
use routeros_sim::{
    BareLogin, Faults, OverLimit, Personality, RouterConfig, SimConfig, Simulator, TagPosition,
    Version,
};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const READ_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- test menus

/// `/interface`: a list menu with `.id`s, an optional comment and monitor-traffic.
struct Interfaces {
    count: usize,
}

impl Menu for Interfaces {
    fn path(&self) -> &'static str {
        "/interface"
    }

    fn rows(&self, _view: &RouterView<'_>) -> Vec<SimRow> {
        (0..self.count)
            .map(|i| {
                let kind = ["ether", "vlan", "bridge"][i % 3];
                let mut r = row([
                    (".id", format!("*{:X}", i + 1)),
                    ("name", format!("ether{}", i + 1)),
                    ("type", kind.to_owned()),
                    ("mtu", (1500 + i).to_string()),
                ]);
                if i % 2 == 0 {
                    r.push(("comment".into(), format!("port {i}").into_bytes()));
                }
                r
            })
            .collect()
    }

    fn monitor(&self, view: &RouterView<'_>, item: &str) -> Option<SimRow> {
        let known = (1..=self.count).any(|i| item == format!("ether{i}"));
        known.then(|| {
            row([
                ("name", item.to_owned()),
                ("rx-bits-per-second", view.uptime.as_millis().to_string()),
            ])
        })
    }
}

/// `/interface/ethernet`: monitor only.
struct Ethernet;

impl Menu for Ethernet {
    fn path(&self) -> &'static str {
        "/interface/ethernet"
    }

    fn rows(&self, _view: &RouterView<'_>) -> Vec<SimRow> {
        vec![
            row([(".id", "*1"), ("name", "ether1")]),
            row([(".id", "*2"), ("name", "ether2")]),
        ]
    }

    fn monitor(&self, _view: &RouterView<'_>, item: &str) -> Option<SimRow> {
        ["ether1", "ether2"]
            .contains(&item)
            .then(|| row([("name", item), ("status", "link-ok"), ("rate", "1Gbps")]))
    }
}

/// A v7-only menu with no rows.
struct Wireguard;

impl Menu for Wireguard {
    fn path(&self) -> &'static str {
        "/interface/wireguard"
    }

    fn available(&self, personality: &Personality) -> bool {
        personality.is_v7()
    }

    fn rows(&self, _view: &RouterView<'_>) -> Vec<SimRow> {
        Vec::new()
    }
}

/// A big static table.
struct Connections {
    count: usize,
}

impl Menu for Connections {
    fn path(&self) -> &'static str {
        "/ip/firewall/connection"
    }

    fn is_static(&self) -> bool {
        true
    }

    fn rows(&self, _view: &RouterView<'_>) -> Vec<SimRow> {
        (0..self.count)
            .map(|i| {
                row([
                    (".id", format!("*{:X}", i + 1)),
                    (
                        "protocol",
                        if i % 4 == 0 { "udp" } else { "tcp" }.to_owned(),
                    ),
                    (
                        "src-address",
                        format!("10.0.{}.{}:{}", i / 250 % 250, i % 250, 1024 + i % 60000),
                    ),
                    ("dst-address", "192.0.2.1:443".to_owned()),
                ])
            })
            .collect()
    }
}

/// `/system/resource`: uptime in milliseconds (so reboots are visible) and odd bytes.
struct Resource;

impl Menu for Resource {
    fn path(&self) -> &'static str {
        "/system/resource"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        vec![vec![
            (
                "uptime-ms".to_owned(),
                view.uptime.as_millis().to_string().into_bytes(),
            ),
            ("board-name".to_owned(), vec![0xE0, 0xEF, b'=', b'x']),
            ("big".to_owned(), vec![b'z'; 100_000]),
        ]]
    }
}

fn test_menus() -> Vec<Arc<dyn Menu>> {
    let mut all = menus::registry();
    all.push(Arc::new(Interfaces { count: 9 }));
    all.push(Arc::new(Ethernet));
    all.push(Arc::new(Wireguard));
    all.push(Arc::new(Connections { count: 20_000 }));
    all.push(Arc::new(Resource));
    all
}

async fn start(routers: Vec<RouterConfig>) -> Simulator {
    Simulator::start_with_menus(SimConfig { routers }, test_menus())
        .await
        .expect("simulator starts")
}

async fn start_one(router: RouterConfig) -> (Simulator, SocketAddr) {
    let sim = start(vec![router]).await;
    let addr = sim.routers()[0].addr();
    (sim, addr)
}

fn v(version: &str) -> Version {
    Version::parse(version).expect("valid version")
}

// ---------------------------------------------------------------- raw client

type Words = Vec<String>;

struct RawClient<S = TcpStream> {
    stream: S,
    buf: BytesMut,
    decoder: Decoder,
}

impl RawClient {
    async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Self::over(stream)
    }

    async fn logged_in(addr: SocketAddr) -> Self {
        let mut client = Self::connect(addr).await;
        client.login("admin", "").await;
        client
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> RawClient<S> {
    fn over(stream: S) -> Self {
        Self {
            stream,
            buf: BytesMut::new(),
            decoder: Decoder::default(),
        }
    }

    async fn send(&mut self, words: &[&str]) {
        let mut out = Vec::new();
        encode_sentence(words, &mut out).expect("encodable");
        self.stream.write_all(&out).await.expect("write");
    }

    /// The next sentence, lossily decoded; `None` on EOF.
    async fn try_read(&mut self) -> Result<Option<Words>, ProtocolError> {
        loop {
            if let Some(s) = self.decoder.decode(&mut self.buf)? {
                return Ok(Some(
                    s.words()
                        .map(|w| String::from_utf8_lossy(w).into_owned())
                        .collect(),
                ));
            }
            let n = tokio::time::timeout(READ_TIMEOUT, self.stream.read_buf(&mut self.buf))
                .await
                .expect("reply within timeout")
                .unwrap_or(0);
            if n == 0 {
                return Ok(None);
            }
        }
    }

    async fn read(&mut self) -> Words {
        self.try_read()
            .await
            .expect("valid sentence")
            .expect("a sentence, not EOF")
    }

    /// Reads sentences up to and including the next `!done`.
    async fn read_to_done(&mut self) -> Vec<Words> {
        let mut out = Vec::new();
        loop {
            let s = self.read().await;
            let done = s[0] == "!done";
            out.push(s);
            if done {
                return out;
            }
        }
    }

    async fn command(&mut self, words: &[&str]) -> Vec<Words> {
        self.send(words).await;
        self.read_to_done().await
    }

    async fn login(&mut self, name: &str, password: &str) {
        let reply = self
            .command(&[
                "/login",
                &format!("=name={name}"),
                &format!("=password={password}"),
            ])
            .await;
        assert_eq!(reply, vec![vec!["!done".to_owned()]]);
    }

    /// True when the server closes the connection (EOF) with nothing else sent.
    async fn expect_eof(&mut self) {
        assert_eq!(self.try_read().await.expect("clean EOF"), None);
    }

    /// Nothing arrives within `wait`.
    async fn expect_silence(&mut self, wait: Duration) {
        let got = tokio::time::timeout(wait, self.stream.read_buf(&mut self.buf)).await;
        assert!(got.is_err(), "expected no reply, got {:?}", self.buf);
    }
}

fn words(list: &[&str]) -> Words {
    list.iter().map(|w| (*w).to_owned()).collect()
}

fn attr<'a>(sentence: &'a [String], key: &str) -> Option<&'a str> {
    let prefix = format!("={key}=");
    sentence
        .iter()
        .find_map(|w| w.strip_prefix(prefix.as_str()))
}

fn tag(sentence: &[String]) -> Option<&str> {
    sentence.iter().find_map(|w| w.strip_prefix(".tag="))
}

// ---------------------------------------------------------------- login

#[tokio::test]
async fn plain_login_accepts_and_rejects() {
    let mut router = RouterConfig::v7("r1");
    router.password = "secret".into();
    let (sim, addr) = start_one(router).await;
    let mut c = RawClient::connect(addr).await;
    let reply = c
        .command(&["/login", "=name=admin", "=password=wrong"])
        .await;
    assert_eq!(
        reply,
        vec![
            words(&["!trap", "=message=invalid user name or password (6)"]),
            words(&["!done"]),
        ]
    );
    // Still connected and still not logged in.
    c.login("admin", "secret").await;
    assert_eq!(c.command(&["/login"]).await, vec![words(&["!done"])]);
    let reply = c.command(&["/system/identity/print"]).await;
    assert_eq!(reply, vec![words(&["!re", "=name=r1"]), words(&["!done"])]);
    let stats = sim.routers()[0].stats();
    assert_eq!((stats.logins_ok, stats.logins_failed), (1, 1));
}

#[tokio::test]
async fn legacy_login_uses_the_md5_challenge() {
    let mut router = RouterConfig::v6("old").with_version(v("6.42"));
    router.password = "passTest".into();
    let (_sim, addr) = start_one(router).await;
    let mut c = RawClient::connect(addr).await;
    // Name and password are ignored before 6.43: the answer is a challenge.
    let reply = c
        .command(&["/login", "=name=admin", "=password=passTest"])
        .await;
    let challenge = attr(&reply[0], "ret").expect("challenge").to_owned();
    assert_eq!(challenge.len(), 32);
    let bad = c
        .command(&["/login", "=name=admin", "=response=00ffff"])
        .await;
    assert_eq!(bad[0][0], "!trap");
    assert_eq!(
        attr(&bad[0], "message"),
        Some("invalid user name or password (6)")
    );

    let reply = c.command(&["/login"]).await;
    let challenge = hex::decode(attr(&reply[0], "ret").expect("challenge")).expect("hex");
    let response = response_to_challenge(b"passTest", &challenge);
    let ok = c
        .command(&["/login", "=name=admin", &format!("=response={response}")])
        .await;
    assert_eq!(ok, vec![words(&["!done"])]);
    let id = c.command(&["/system/identity/print"]).await;
    assert_eq!(attr(&id[0], "name"), Some("old"));
}

/// A `/login` without a user name (what the exporter's API-port check sends)
/// is no login attempt: 6.x hands out the challenge (6.45.1+ then rejects the
/// answer), 7.x answers as its personality says; neither counts a login.
#[tokio::test]
async fn bare_login_is_answered_but_never_counted() {
    let mut fatal = RouterConfig::v7("fatal");
    fatal.personality.bare_login = BareLogin::Fatal;
    let sim = start(vec![
        RouterConfig::v6("r6"),
        RouterConfig::v6("r644").with_version(v("6.44")),
        RouterConfig::v7("r7"),
        fatal,
    ])
    .await;
    let [r6, r644, r7, fatal] = [0, 1, 2, 3].map(|i| sim.routers()[i].addr());
    for (addr, accepts_response) in [(r6, false), (r644, true)] {
        let mut c = RawClient::connect(addr).await;
        let reply = c.command(&["/login"]).await;
        assert_eq!((reply.len(), reply[0][0].as_str()), (1, "!done"));
        let challenge = hex::decode(attr(&reply[0], "ret").expect("challenge")).expect("hex");
        let response = format!("=response={}", response_to_challenge(b"", &challenge));
        let answer = c.command(&["/login", "=name=admin", &response]).await;
        assert_eq!(answer[0][0] == "!done", accepts_response, "{answer:?}");
    }
    let mut c = RawClient::connect(r7).await;
    assert_eq!(
        c.command(&["/login", ".tag=1"]).await,
        vec![
            words(&[
                "!trap",
                ".tag=1",
                "=message=invalid user name or password (6)"
            ]),
            words(&["!done", ".tag=1"]),
        ]
    );
    c.login("admin", "").await;
    let mut c = RawClient::connect(fatal).await;
    c.send(&["/login"]).await;
    assert_eq!(c.read().await[0], "!fatal");
    c.expect_eof().await;
    let counted: Vec<(u64, u64)> = sim
        .routers()
        .iter()
        .map(|r| (r.stats().logins_ok, r.stats().logins_failed))
        .collect();
    assert_eq!(counted, [(0, 1), (1, 0), (1, 0), (0, 0)]);
}

#[tokio::test]
async fn commands_before_login_are_fatal() {
    let (_sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::connect(addr).await;
    c.send(&["/system/identity/print", ".tag=1"]).await;
    assert_eq!(c.read().await, words(&["!fatal", "not logged in"]));
    c.expect_eof().await;
}

#[tokio::test]
async fn quit_is_a_fatal_bare_word_then_close() {
    let (_sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::logged_in(addr).await;
    c.send(&["/quit", ".tag=9"]).await;
    assert_eq!(
        c.read().await,
        words(&["!fatal", "session terminated on request"])
    );
    c.expect_eof().await;
}

#[tokio::test]
async fn requests_may_arrive_byte_by_byte() {
    let (_sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::connect(addr).await;
    let mut wire = Vec::new();
    encode_sentence(["/login", "=name=admin", "=password="], &mut wire).unwrap();
    encode_sentence(["/system/identity/print"], &mut wire).unwrap();
    for byte in wire {
        c.stream.write_all(&[byte]).await.unwrap();
    }
    assert_eq!(c.read_to_done().await, vec![words(&["!done"])]);
    assert_eq!(c.read_to_done().await[0], words(&["!re", "=name=r1"]));
}

// ---------------------------------------------------------------- tags

#[tokio::test]
async fn tagged_commands_interleave_and_keep_their_tags() {
    let (_sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::logged_in(addr).await;
    c.send(&["/ip/firewall/connection/print", ".tag=big"]).await;
    c.send(&["/system/identity/print", ".tag=small"]).await;
    let mut big_rows = 0;
    let mut small = Vec::new();
    let mut done = Vec::new();
    while done.len() < 2 {
        let s = c.read().await;
        assert_eq!(
            s[1].strip_prefix(".tag="),
            tag(&s),
            "tag right after reply word"
        );
        match (tag(&s), s[0].as_str()) {
            (Some("big"), "!re") => {
                assert!(!done.contains(&"big".to_owned()), "no !re after !done");
                big_rows += 1;
            }
            (Some("small"), "!re") => small.push(s.clone()),
            (Some(t), "!done") => done.push(t.to_owned()),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(big_rows, 20_000);
    assert_eq!(small, vec![words(&["!re", ".tag=small", "=name=r1"])]);
}

#[tokio::test]
async fn a_print_completes_while_a_monitor_streams() {
    let (_sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::logged_in(addr).await;
    c.send(&[
        "/interface/monitor-traffic",
        "=interface=ether1",
        "=interval=20ms",
        ".tag=m",
    ])
    .await;
    assert_eq!(tag(&c.read().await), Some("m"));
    c.send(&["/system/identity/print", ".tag=p"]).await;
    let mut seen_print_done = false;
    let mut monitor_after_print = 0;
    while monitor_after_print < 2 {
        let s = c.read().await;
        match (tag(&s), s[0].as_str()) {
            (Some("p"), "!done") => seen_print_done = true,
            (Some("p"), "!re") => assert_eq!(attr(&s, "name"), Some("r1")),
            (Some("m"), "!re") if seen_print_done => monitor_after_print += 1,
            (Some("m"), "!re") => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn tag_can_be_the_last_word() {
    let mut router = RouterConfig::v7("r1");
    router.tag_position = TagPosition::Last;
    let (_sim, addr) = start_one(router).await;
    let mut c = RawClient::logged_in(addr).await;
    let reply = c
        .command(&["/interface/print", "?name=ether2", ".tag=7"])
        .await;
    for s in &reply {
        assert_eq!(s.last().map(String::as_str), Some(".tag=7"));
    }
    assert_eq!(reply.len(), 2);
    // Untagged commands get no tag at all, an empty tag counts as none.
    let reply = c.command(&["/system/identity/print", ".tag="]).await;
    assert!(reply.iter().all(|s| tag(s).is_none()));
}

// ---------------------------------------------------------------- print

#[tokio::test]
async fn proplist_selects_properties() {
    let (_sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::logged_in(addr).await;
    let reply = c
        .command(&["/interface/print", "=.proplist=name,comment"])
        .await;
    assert_eq!(reply.len(), 10);
    assert_eq!(reply[0], words(&["!re", "=name=ether1", "=comment=port 0"]));
    assert_eq!(reply[1], words(&["!re", "=name=ether2"]));
    let ids = c.command(&["/interface/getall", "=.proplist=.id"]).await;
    assert_eq!(ids[8], words(&["!re", "=.id=*9"]));
    let bare = c.command(&["/interface/print", "=.proplist=nothing"]).await;
    assert!(bare[..9].iter().all(|s| *s == words(&["!re"])));
    // Without .proplist everything, .id included, flags ignored.
    let all = c
        .command(&[
            "/interface/print",
            "=stats=detail",
            "=detail=",
            "=without-paging=",
            "=stats-detail=",
        ])
        .await;
    assert_eq!(
        all[2],
        words(&[
            "!re",
            "=.id=*3",
            "=name=ether3",
            "=type=bridge",
            "=mtu=1502",
            "=comment=port 2"
        ])
    );
}

#[tokio::test]
async fn queries_filter_rows() {
    let (_sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::logged_in(addr).await;
    let names = |reply: &[Words]| -> Vec<String> {
        reply
            .iter()
            .filter_map(|s| attr(s, "name").map(str::to_owned))
            .collect()
    };
    let either = c
        .command(&[
            "/interface/print",
            "?type=ether",
            "?type=vlan",
            "?#|",
            "=.proplist=name",
        ])
        .await;
    assert_eq!(
        names(&either),
        ["ether1", "ether2", "ether4", "ether5", "ether7", "ether8"]
    );
    let commented = c.command(&["/interface/print", "?>comment="]).await;
    assert_eq!(
        names(&commented),
        ["ether1", "ether3", "ether5", "ether7", "ether9"]
    );
    let not_ether = c
        .command(&["/interface/print", "?=type=ether", "?#!", "?<mtu=1505"])
        .await;
    assert_eq!(names(&not_ether), ["ether2", "ether3", "ether5"]);
    let bad = c.command(&["/interface/print", "?#x"]).await;
    assert_eq!(bad.len(), 2);
    assert_eq!(bad[0][0], "!trap");
    assert_eq!(attr(&bad[0], "category"), Some("1"));
}

#[tokio::test]
async fn count_only_returns_the_number() {
    let (_sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::logged_in(addr).await;
    let all = c
        .command(&["/ip/firewall/connection/print", "=count-only="])
        .await;
    assert_eq!(all, vec![words(&["!done", "=ret=20000"])]);
    let udp = c
        .command(&[
            "/ip/firewall/connection/print",
            "?protocol=udp",
            "=count-only=",
            ".tag=3",
        ])
        .await;
    assert_eq!(udp, vec![words(&["!done", ".tag=3", "=ret=5000"])]);
    let none = c
        .command(&["/interface/print", "?type=wifi", "=count-only="])
        .await;
    assert_eq!(none, vec![words(&["!done", "=ret=0"])]);
}

#[tokio::test]
async fn static_tables_are_served_from_cache_consistently() {
    let (_sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::logged_in(addr).await;
    let first = c
        .command(&[
            "/ip/firewall/connection/print",
            "?protocol=udp",
            "=.proplist=.id,protocol",
        ])
        .await;
    let second = c
        .command(&[
            "/ip/firewall/connection/print",
            "?protocol=udp",
            "=.proplist=.id,protocol",
            ".tag=x",
        ])
        .await;
    assert_eq!(first.len(), 5001);
    assert_eq!(first[1], words(&["!re", "=.id=*5", "=protocol=udp"]));
    assert_eq!(
        second[1],
        words(&["!re", ".tag=x", "=.id=*5", "=protocol=udp"])
    );
}

#[tokio::test]
async fn empty_results_follow_the_version() {
    let sim = start(vec![
        RouterConfig::v7("old").with_version(v("7.16")),
        RouterConfig::v7("new").with_version(v("7.18")),
    ])
    .await;
    let mut old = RawClient::logged_in(sim.routers()[0].addr()).await;
    let mut new = RawClient::logged_in(sim.routers()[1].addr()).await;
    let cmd = ["/interface/wireguard/print", ".tag=5"];
    assert_eq!(old.command(&cmd).await, vec![words(&["!done", ".tag=5"])]);
    assert_eq!(
        new.command(&cmd).await,
        vec![words(&["!empty", ".tag=5"]), words(&["!done", ".tag=5"])]
    );
    let filtered = new.command(&["/interface/print", "?name=nope"]).await;
    assert_eq!(filtered, vec![words(&["!empty"]), words(&["!done"])]);
    // Nothing to count: 7.18+ says `!empty` and leaves `=ret=` out.
    let count = ["/interface/print", "?name=nope", "=count-only="];
    assert_eq!(old.command(&count).await, vec![words(&["!done", "=ret=0"])]);
    assert_eq!(
        new.command(&count).await,
        vec![words(&["!empty"]), words(&["!done"])]
    );
    let some = ["/interface/print", "?name=ether1", "=count-only="];
    assert_eq!(new.command(&some).await, vec![words(&["!done", "=ret=1"])]);
}

#[tokio::test]
async fn the_empty_count_shape_is_a_switch() {
    let mut router = RouterConfig::v7("r").with_version(v("7.18"));
    router.personality.empty_count_without_ret = false;
    let (_sim, addr) = start_one(router).await;
    let mut c = RawClient::logged_in(addr).await;
    let count = ["/interface/print", "?name=nope", "=count-only="];
    assert_eq!(c.command(&count).await, vec![words(&["!done", "=ret=0"])]);
}

#[tokio::test]
async fn values_are_bytes_and_words_can_be_large() {
    let (_sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::logged_in(addr).await;
    c.send(&["/system/resource/print", "=.proplist=board-name,big"])
        .await;
    // Decode by hand to check the raw bytes.
    let mut decoder = Decoder::default();
    let sentence = loop {
        if let Some(s) = decoder.decode(&mut c.buf).unwrap() {
            break s;
        }
        c.stream.read_buf(&mut c.buf).await.unwrap();
    };
    assert_eq!(sentence.word(1), Some(&b"=board-name=\xe0\xef=x"[..]));
    assert_eq!(sentence.word(2).map(<[u8]>::len), Some(100_005));
}

// ---------------------------------------------------------------- errors

#[tokio::test]
async fn missing_menus_answer_with_two_traps() {
    let (_sim, addr) = start_one(RouterConfig::v6("r1")).await;
    let mut c = RawClient::logged_in(addr).await;
    let expected = |segment: &str, t: &str| {
        vec![
            words(&[
                "!trap",
                &format!(".tag={t}"),
                "=category=0",
                &format!("=message=no such command or directory ({segment})"),
            ]),
            words(&[
                "!trap",
                &format!(".tag={t}"),
                "=message=no such command prefix",
            ]),
            words(&["!done", &format!(".tag={t}")]),
        ]
    };
    let reply = c.command(&["/interface/wireguard/print", ".tag=1"]).await;
    assert_eq!(reply, expected("wireguard", "1"));
    let reply = c.command(&["/ip/adress/print", ".tag=2"]).await;
    assert_eq!(reply, expected("adress", "2"));
    let verb = c.command(&["/system/identity/frobnicate"]).await;
    assert_eq!(verb.len(), 2);
    assert_eq!(verb[0][0], "!trap");
    assert!(
        attr(&verb[0], "message")
            .unwrap()
            .starts_with("no such command")
    );
}

// ---------------------------------------------------------------- monitor and cancel

#[tokio::test]
async fn monitor_once_answers_in_the_requested_order() {
    let (_sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::logged_in(addr).await;
    let reply = c
        .command(&[
            "/interface/ethernet/monitor",
            "=numbers=ether2,ether1",
            "=once=",
            "=.proplist=name,status",
        ])
        .await;
    assert_eq!(
        reply,
        vec![
            words(&["!re", "=name=ether2", "=status=link-ok"]),
            words(&["!re", "=name=ether1", "=status=link-ok"]),
            words(&["!done"]),
        ]
    );
    // .id and print-order index resolve to names.
    let reply = c
        .command(&[
            "/interface/ethernet/monitor",
            "=numbers=*2,0",
            "=once=",
            "=.proplist=name",
        ])
        .await;
    assert_eq!(attr(&reply[0], "name"), Some("ether2"));
    assert_eq!(attr(&reply[1], "name"), Some("ether1"));
    let missing = c
        .command(&[
            "/interface/ethernet/monitor",
            "=numbers=ether1,ether9",
            "=once=",
        ])
        .await;
    assert_eq!(
        missing,
        vec![
            words(&["!trap", "=category=1", "=message=no such item"]),
            words(&["!done"])
        ]
    );
    let traffic = c
        .command(&["/interface/monitor-traffic", "=interface=ether3", "=once="])
        .await;
    assert_eq!(attr(&traffic[0], "name"), Some("ether3"));
}

#[tokio::test]
async fn cancel_interrupts_a_streaming_monitor_in_the_documented_order() {
    let (sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::logged_in(addr).await;
    c.send(&[
        "/interface/ethernet/monitor",
        "=numbers=ether1",
        "=interval=20ms",
        ".tag=10",
    ])
    .await;
    for _ in 0..3 {
        let s = c.read().await;
        assert_eq!((s[0].as_str(), tag(&s)), ("!re", Some("10")));
    }
    c.send(&["/cancel", "=tag=10", ".tag=20"]).await;
    let mut tail = Vec::new();
    loop {
        let s = c.read().await;
        if s[0] == "!re" && tail.is_empty() {
            continue; // rounds already queued before the cancel
        }
        tail.push(s);
        if tail.len() == 3 {
            break;
        }
    }
    assert_eq!(
        tail,
        vec![
            words(&["!trap", ".tag=10", "=category=2", "=message=interrupted"]),
            words(&["!done", ".tag=20"]),
            words(&["!done", ".tag=10"]),
        ]
    );
    // Nothing else from the cancelled command.
    c.expect_silence(Duration::from_millis(100)).await;
    assert_eq!(sim.routers()[0].stats().cancels, 1);
}

#[tokio::test]
async fn cancel_without_tag_cancels_everything() {
    let (_sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::logged_in(addr).await;
    for t in ["a", "b"] {
        c.send(&[
            "/interface/ethernet/monitor",
            "=numbers=ether1",
            "=interval=30ms",
            &format!(".tag={t}"),
        ])
        .await;
    }
    c.send(&["/cancel", ".tag=c"]).await;
    let mut traps = Vec::new();
    let mut dones = Vec::new();
    while dones.len() < 3 {
        let s = c.read().await;
        match s[0].as_str() {
            "!trap" => traps.push(tag(&s).map(str::to_owned)),
            "!done" => dones.push(tag(&s).map(str::to_owned)),
            _ => {}
        }
    }
    traps.sort();
    assert_eq!(traps, [Some("a".to_owned()), Some("b".to_owned())]);
    assert_eq!(dones[0].as_deref(), Some("c"));
    // The connection still works.
    let id = c.command(&["/system/identity/print"]).await;
    assert_eq!(id.len(), 2);
}

// ---------------------------------------------------------------- sessions

async fn wait_for_open_sessions(sim: &Simulator, expected: u64) {
    let deadline = Instant::now() + READ_TIMEOUT;
    while sim.routers()[0].stats().connections_open != expected {
        assert!(
            Instant::now() < deadline,
            "open sessions never reached {expected}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn over_the_session_limit_a_fatal_is_sent() {
    let mut router = RouterConfig::v7("r1");
    router.max_sessions = 2;
    let (sim, addr) = start_one(router).await;
    let _a = RawClient::logged_in(addr).await;
    let mut b = RawClient::logged_in(addr).await;
    let mut c = RawClient::connect(addr).await;
    c.send(&["/login", "=name=admin", "=password="]).await;
    assert_eq!(c.read().await, words(&["!fatal", "too many sessions"]));
    c.expect_eof().await;
    b.send(&["/quit"]).await;
    b.read().await;
    wait_for_open_sessions(&sim, 1).await;
    RawClient::logged_in(addr).await;
}

#[tokio::test]
async fn over_the_session_limit_the_connection_can_just_close() {
    let mut router = RouterConfig::v7("r1");
    router.max_sessions = 1;
    router.over_limit = OverLimit::Close;
    let (sim, addr) = start_one(router).await;
    let _a = RawClient::logged_in(addr).await;
    let mut c = RawClient::connect(addr).await;
    c.expect_eof().await;
    // The limit can also be switched at runtime.
    sim.routers()[0].set_faults(Faults {
        max_sessions: Some(2),
        ..Faults::default()
    });
    RawClient::logged_in(addr).await;
}

// ---------------------------------------------------------------- faults

async fn faulty(faults: Faults) -> (Simulator, RawClient) {
    let (sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let client = RawClient::logged_in(addr).await;
    sim.routers()[0].set_faults(faults);
    (sim, client)
}

#[tokio::test]
async fn latency_delays_replies() {
    let (_sim, mut c) = faulty(Faults {
        latency_ms: 200,
        ..Faults::default()
    })
    .await;
    let started = Instant::now();
    let reply = c.command(&["/system/identity/print"]).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(reply.len(), 2);
}

#[tokio::test]
async fn drip_feed_splits_replies_into_small_chunks() {
    let (_sim, mut c) = faulty(Faults {
        drip_chunk_bytes: 3,
        drip_delay_ms: 20,
        ..Faults::default()
    })
    .await;
    c.send(&["/system/identity/print"]).await;
    let mut reads = Vec::new();
    let mut decoder = Decoder::default();
    let mut sentences = 0;
    while sentences < 2 {
        let mut chunk = [0u8; 64];
        let n = tokio::time::timeout(READ_TIMEOUT, c.stream.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0);
        reads.push(n);
        c.buf.extend_from_slice(&chunk[..n]);
        while decoder.decode(&mut c.buf).unwrap().is_some() {
            sentences += 1;
        }
    }
    assert!(reads.len() > 1, "reply arrived in one piece: {reads:?}");
}

#[tokio::test]
async fn hang_never_answers_but_keeps_the_connection() {
    let (sim, mut c) = faulty(Faults {
        hang: true,
        ..Faults::default()
    })
    .await;
    c.send(&["/system/identity/print"]).await;
    c.expect_silence(Duration::from_millis(300)).await;
    sim.routers()[0].set_faults(Faults::default());
    assert_eq!(c.command(&["/system/identity/print"]).await.len(), 2);
}

#[tokio::test]
async fn hang_login_does_not_answer_login() {
    let mut router = RouterConfig::v7("r1");
    router.faults.hang_login = true;
    let (_sim, addr) = start_one(router).await;
    let mut c = RawClient::connect(addr).await;
    c.send(&["/login", "=name=admin", "=password="]).await;
    c.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn drop_mid_reply_sends_one_row_then_closes() {
    let (_sim, mut c) = faulty(Faults {
        drop_mid_reply: true,
        ..Faults::default()
    })
    .await;
    c.send(&["/interface/print", "=.proplist=name"]).await;
    assert_eq!(c.read().await, words(&["!re", "=name=ether1"]));
    c.expect_eof().await;
}

#[tokio::test]
async fn fatal_fault_answers_with_fatal_and_closes() {
    let (_sim, mut c) = faulty(Faults {
        fatal: Some("out of memory".into()),
        ..Faults::default()
    })
    .await;
    c.send(&["/system/identity/print", ".tag=1"]).await;
    assert_eq!(c.read().await, words(&["!fatal", "out of memory"]));
    c.expect_eof().await;
}

#[tokio::test]
async fn garbage_starts_with_a_reserved_control_byte() {
    let (_sim, mut c) = faulty(Faults {
        garbage: true,
        ..Faults::default()
    })
    .await;
    c.send(&["/system/identity/print"]).await;
    assert!(matches!(
        c.try_read().await,
        Err(ProtocolError::ReservedControlByte(0xF8..=0xFF))
    ));
}

#[tokio::test]
async fn huge_word_announces_four_gib() {
    let (_sim, mut c) = faulty(Faults {
        huge_word: true,
        ..Faults::default()
    })
    .await;
    c.send(&["/system/identity/print"]).await;
    match c.try_read().await {
        Err(ProtocolError::WordTooLarge { announced, .. }) => assert_eq!(announced, 0xFFFF_FFFF),
        other => panic!("expected an oversized word, got {other:?}"),
    }
}

#[tokio::test]
async fn auth_failure_rejects_correct_credentials() {
    let mut router = RouterConfig::v7("r1");
    router.faults.auth_failure = true;
    let (_sim, addr) = start_one(router).await;
    let mut c = RawClient::connect(addr).await;
    let reply = c.command(&["/login", "=name=admin", "=password="]).await;
    assert_eq!(
        attr(&reply[0], "message"),
        Some("invalid user name or password (6)")
    );
}

#[tokio::test]
async fn refuse_accepts_then_closes() {
    let mut router = RouterConfig::v7("r1");
    router.faults.refuse = true;
    let (sim, addr) = start_one(router).await;
    let mut c = RawClient::connect(addr).await;
    c.expect_eof().await;
    assert_eq!(sim.routers()[0].stats().connections_accepted, 1);
    assert_eq!(sim.routers()[0].stats().connections_open, 0);
}

#[tokio::test]
async fn reboot_closes_connections_and_restarts_uptime() {
    let (sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::logged_in(addr).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let uptime =
        |reply: &[Words]| -> u64 { attr(&reply[0], "uptime-ms").unwrap().parse().unwrap() };
    let before = uptime(
        &c.command(&["/system/resource/print", "=.proplist=uptime-ms"])
            .await,
    );
    assert!(before >= 1000);
    sim.routers()[0].reboot();
    c.expect_eof().await;
    let mut c = RawClient::logged_in(addr).await;
    let after = uptime(
        &c.command(&["/system/resource/print", "=.proplist=uptime-ms"])
            .await,
    );
    assert!(
        after < before,
        "uptime {after} after reboot, {before} before"
    );
}

#[tokio::test]
async fn stats_count_commands_by_path_and_bytes() {
    let (sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::logged_in(addr).await;
    c.command(&["/system/identity/print"]).await;
    c.command(&["/system/identity/print", ".tag=2"]).await;
    c.command(&["/interface/print"]).await;
    let stats = sim.routers()[0].stats();
    assert_eq!(stats.commands.get("/system/identity/print"), Some(&2));
    assert_eq!(stats.commands.get("/interface/print"), Some(&1));
    assert_eq!(stats.commands.get("/login"), Some(&1));
    assert_eq!((stats.connections_accepted, stats.connections_open), (1, 1));
    assert!(stats.bytes_received > 0 && stats.bytes_sent > stats.bytes_received);
}

#[tokio::test]
async fn dropping_the_simulator_stops_listening() {
    let (sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::logged_in(addr).await;
    drop(sim);
    c.expect_eof().await;
    // Give the aborted accept task a moment to release the socket.
    let deadline = Instant::now() + READ_TIMEOUT;
    while TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < deadline, "listener still accepting");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------- API-SSL

fn tls_connector(ca_pem: &str) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    let cert = CertificateDer::from_pem_slice(ca_pem.as_bytes()).expect("PEM certificate");
    roots.add(cert).expect("trusted");
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

async fn tls_router() -> (Simulator, SocketAddr, tokio_rustls::TlsConnector) {
    let mut router = RouterConfig::v7("r1");
    router.tls_port = Some(0);
    let sim = start(vec![router]).await;
    let handle = &sim.routers()[0];
    let addr = handle.tls_addr().expect("API-SSL listener");
    let connector = tls_connector(&handle.tls_ca_pem().expect("certificate"));
    (sim, addr, connector)
}

#[tokio::test]
async fn api_ssl_serves_the_same_protocol_with_a_verifiable_certificate() {
    let (sim, addr, connector) = tls_router().await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let server_name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tls = connector
        .connect(server_name, tcp)
        .await
        .expect("handshake");
    let peer_cert = tls.get_ref().1.peer_certificates().expect("certificate")[0].clone();
    let fingerprint = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(peer_cert.as_ref()))
    };
    assert_eq!(Some(fingerprint), sim.routers()[0].tls_fingerprint_sha256());
    let mut c = RawClient::over(tls);
    c.login("admin", "").await;
    let reply = c.command(&["/system/identity/print", ".tag=t"]).await;
    assert_eq!(reply[0], words(&["!re", ".tag=t", "=name=r1"]));
    c.send(&["/quit"]).await;
    assert_eq!(c.read().await[0], "!fatal");
}

#[tokio::test]
async fn anon_dh_only_fails_the_rustls_handshake() {
    let (sim, addr, connector) = tls_router().await;
    sim.routers()[0].set_faults(Faults {
        anon_dh_only: true,
        ..Faults::default()
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    let server_name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let err = connector
        .connect(server_name, tcp)
        .await
        .expect_err("handshake must fail");
    assert!(
        err.to_string().to_lowercase().contains("handshakefailure"),
        "unexpected error: {err}"
    );
    // On the wire it is exactly one alert record.
    let mut raw = TcpStream::connect(addr).await.unwrap();
    raw.write_all(&[0x16, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00])
        .await
        .unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(READ_TIMEOUT, raw.read_to_end(&mut reply))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reply, [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
}

// ---------------------------------------------------------------- control endpoint

/// One HTTP/1.1 request; returns the status code and body.
async fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let (status, _, body) = http_bytes(addr, method, path, body).await;
    (status, String::from_utf8(body).unwrap())
}

/// One HTTP/1.1 request; returns the status code, the head and the raw body.
async fn http_bytes(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(READ_TIMEOUT, stream.read_to_end(&mut response))
        .await
        .unwrap()
        .unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(response[..split].to_vec()).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head, response[split + 4..].to_vec())
}

#[tokio::test]
async fn control_endpoint_switches_faults_and_reports() {
    let mut second = RouterConfig::v6("r2");
    second.tls_port = Some(0);
    let sim = start(vec![RouterConfig::v7("r1"), second]).await;
    let control = sim
        .serve_control("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let (status, body) = http(control, "GET", "/routers", "").await;
    assert_eq!(status, 200);
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list[0]["name"], "r1");
    assert_eq!(list[0]["version"], "7.16");
    assert_eq!(list[0]["address"], sim.routers()[0].addr().to_string());
    assert_eq!(list[0]["tls_address"], serde_json::Value::Null);
    assert_eq!(list[1]["version"], "6.49.10");
    assert_eq!(
        list[1]["tls_address"],
        sim.routers()[1].tls_addr().unwrap().to_string()
    );

    let addr = sim.routers()[0].addr();
    let (status, _) = http(
        control,
        "PUT",
        "/routers/r1/faults",
        r#"{"auth_failure": true}"#,
    )
    .await;
    assert_eq!(status, 200);
    let mut c = RawClient::connect(addr).await;
    let reply = c.command(&["/login", "=name=admin", "=password="]).await;
    assert_eq!(reply[0][0], "!trap");
    let (_, faults) = http(control, "GET", "/routers/r1/faults", "").await;
    let faults: Faults = serde_json::from_str(&faults).unwrap();
    assert!(faults.auth_failure);

    let (status, _) = http(control, "DELETE", "/routers/r1/faults", "").await;
    assert_eq!(status, 200);
    c.login("admin", "").await;
    assert_eq!(sim.routers()[0].faults(), Faults::default());

    let (status, body) = http(control, "GET", "/routers/r1/stats", "").await;
    assert_eq!(status, 200);
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stats["commands"]["/login"], 2);
    assert_eq!(stats["logins_failed"], 1);

    let (status, _) = http(control, "PUT", "/routers/r1/faults", "{not json").await;
    assert_eq!(status, 400);
    let (status, _) = http(control, "PUT", "/routers/r1/faults", r#"{"latency": 5}"#).await;
    assert_eq!(status, 400);
    let (status, body) = http(control, "GET", "/routers/nope/stats", "").await;
    assert_eq!(status, 404);
    assert!(body.contains("nope"));

    let (status, _) = http(control, "POST", "/routers/r1/reboot", "").await;
    assert_eq!(status, 204);
    c.expect_eof().await;
}

#[tokio::test]
async fn reboot_closes_even_a_connection_stuck_behind_a_slow_writer() {
    let (sim, mut c) = faulty(Faults {
        drip_chunk_bytes: 1,
        drip_delay_ms: 50,
        ..Faults::default()
    })
    .await;
    // Enough replies to fill the connection's queue while the writer dribbles.
    for _ in 0..200 {
        c.send(&["/login"]).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    sim.routers()[0].reboot();
    let mut rest = Vec::new();
    tokio::time::timeout(READ_TIMEOUT, c.stream.read_to_end(&mut rest))
        .await
        .expect("closed promptly after reboot")
        .expect("clean close");
}

#[tokio::test]
async fn half_closed_clients_still_get_their_replies() {
    let (_sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let mut c = RawClient::connect(addr).await;
    c.send(&["/login", "=name=admin", "=password="]).await;
    c.send(&["/ip/firewall/connection/print", "=count-only="])
        .await;
    c.stream.shutdown().await.unwrap();
    assert_eq!(c.read_to_done().await, vec![words(&["!done"])]);
    assert_eq!(
        c.read_to_done().await,
        vec![words(&["!done", "=ret=20000"])]
    );
    c.expect_eof().await;
}

// ---------------------------------------------------------------- capture

fn encoded(sentences: &[&[&str]]) -> Vec<u8> {
    let mut out = Vec::new();
    for words in sentences {
        encode_sentence(*words, &mut out).unwrap();
    }
    out
}

#[tokio::test]
async fn capture_keeps_the_exact_request_bytes_of_every_connection_in_order() {
    let (sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let router = &sim.routers()[0];
    let mut first = RawClient::logged_in(addr).await;
    first.command(&["/system/identity/print"]).await;
    router.start_capture();
    let mut second = RawClient::connect(addr).await;
    second.login("admin", "").await;
    first
        .command(&["/interface/print", "?type=vlan", ".tag=7"])
        .await;
    // A word with a two-byte length prefix where one byte would do: the capture
    // holds what arrived, not a re-encoding of it.
    let padded = [b"\x80\x10/interface/print".as_slice(), b"\x06.tag=8\x00"].concat();
    second.stream.write_all(&padded).await.unwrap();
    second.read_to_done().await;
    let mut expected = encoded(&[
        &["/login", "=name=admin", "=password="],
        &["/interface/print", "?type=vlan", ".tag=7"],
    ]);
    expected.extend_from_slice(&padded);
    assert_eq!(router.captured().bytes, expected, "capturing goes on");
    let captured = router.stop_capture();
    first.command(&["/system/identity/print"]).await;
    assert_eq!(captured.bytes, expected);
    assert!(!captured.truncated);
    assert!(router.captured().bytes.is_empty(), "stopping hands it over");
}

#[tokio::test]
async fn capture_over_the_control_endpoint() {
    let (sim, addr) = start_one(RouterConfig::v7("r1")).await;
    let control = sim
        .serve_control("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut c = RawClient::logged_in(addr).await;
    let (status, _, _) = http_bytes(control, "POST", "/routers/r1/capture", "").await;
    assert_eq!(status, 204);
    let long_comment = format!("=comment={}", "x".repeat(300));
    c.command(&["/system/identity/print", &long_comment, ".tag=1"])
        .await;
    let expected = encoded(&[&["/system/identity/print", &long_comment, ".tag=1"]]);

    let (status, head, body) = http_bytes(control, "GET", "/routers/r1/capture", "").await;
    assert_eq!(status, 200);
    assert!(head.contains("application/octet-stream"), "{head}");
    assert!(!head.contains("x-capture-truncated"), "{head}");
    assert_eq!(body, expected);
    let (status, _, body) = http_bytes(control, "DELETE", "/routers/r1/capture", "").await;
    assert_eq!((status, body), (200, expected));
    c.command(&["/system/identity/print"]).await;
    let (_, _, body) = http_bytes(control, "GET", "/routers/r1/capture", "").await;
    assert!(body.is_empty(), "nothing after DELETE");
    let (status, _, _) = http_bytes(control, "POST", "/routers/nope/capture", "").await;
    assert_eq!(status, 404);
}
