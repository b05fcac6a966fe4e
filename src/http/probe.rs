//! `GET /probe?target=NAME&module=a,b&module=c&debug=true`, and
//! `target=ADDRESS&auth=NAME` for an address target.

use super::App;
use crate::probe::deadline;
use crate::probe::render::{self, Format};
use crate::probe::{ProbeError, ProbeOutput, ProbeRequest, clip};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::fmt::Write;
use std::sync::Arc;

const TIMEOUT_HEADER: &str = "x-prometheus-scrape-timeout-seconds";

/// Decodes `application/x-www-form-urlencoded` pairs, repeated keys kept in
/// order (Prometheus' `params:` may repeat `module`).
///
/// Not axum's `Query<Vec<(String, String)>>`, which takes repeated keys too:
/// serde_urlencoded (like `form_urlencoded` under it) passes a malformed
/// escape such as `%zz` through as text and replaces invalid UTF-8, so a
/// mangled target name would get a 404 naming a target nobody asked for
/// instead of a 400 naming the bad escape. The decoding is `percent_encoding`'s.
pub fn parse_query(raw: &str) -> Result<Vec<(String, String)>, String> {
    raw.split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let malformed = text.match_indices('%').any(|(i, _)| {
        !bytes
            .get(i + 1..i + 3)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if malformed {
        return Err(format!("bad percent-encoding in {}", clip(text)));
    }
    // `+` is a space; an escaped plus (`%2B`) is decoded after this.
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| format!("query parameter {} is not UTF-8", clip(text)))
}

fn bad_request(message: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, format!("{}\n", message.into())).into_response()
}

/// Parses the request; any problem is a 400 naming it.
fn request(raw: Option<&str>, headers: &HeaderMap) -> Result<ProbeRequest, String> {
    let pairs = parse_query(raw.unwrap_or_default())?;
    let mut target = None;
    let mut auth = None;
    let mut modules = Vec::new();
    let mut debug = false;
    for (key, value) in pairs {
        match key.as_str() {
            "target" if target.is_some() => return Err("target given more than once".into()),
            "target" => target = Some(value),
            "auth" if auth.is_some() => return Err("auth given more than once".into()),
            "auth" => auth = Some(value),
            "module" => modules.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .map(String::from),
            ),
            "debug" => {
                debug = match value.as_str() {
                    // A bare `debug` asks for it.
                    "true" | "1" | "" => true,
                    "false" | "0" => false,
                    other => {
                        return Err(format!("debug must be true or false, got {}", clip(other)));
                    }
                }
            }
            other => {
                return Err(format!(
                    "unknown parameter {}; valid parameters: target, auth, module, debug",
                    clip(other)
                ));
            }
        }
    }
    let target = match target {
        Some(t) if !t.is_empty() => t,
        _ => {
            return Err(
                "missing target parameter: /probe?target=NAME (a target name from the config)"
                    .into(),
            );
        }
    };
    let scrape_timeout = match headers.get(TIMEOUT_HEADER) {
        None => None,
        Some(value) => {
            let text = String::from_utf8_lossy(value.as_bytes());
            Some(deadline::parse_header(&text).map_err(|e| e.to_string())?)
        }
    };
    Ok(ProbeRequest {
        target,
        auth,
        modules,
        scrape_timeout,
        debug,
    })
}

/// The `/probe` handler.
pub async fn probe(
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let request = match request(raw.as_deref(), &headers) {
        Ok(r) => r,
        Err(message) => return bad_request(message),
    };
    let debug = request.debug;
    let output = match app.prober.probe(request).await {
        Ok(output) => output,
        Err(e @ ProbeError::UnknownTarget { .. }) => {
            return (StatusCode::NOT_FOUND, format!("{e}\n")).into_response();
        }
        Err(e @ ProbeError::UnknownModule { .. }) => return bad_request(e.to_string()),
        Err(e @ (ProbeError::Overloaded(_) | ProbeError::TargetBusy(_))) => {
            return (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response();
        }
        // Counted by the prober (address_targets_refused_total, probes_shed_total).
        Err(ProbeError::Address(e)) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::FORBIDDEN);
            return (status, format!("{e}\n")).into_response();
        }
    };
    if debug {
        return (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            debug_report(output),
        )
            .into_response();
    }
    let format = Format::negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let content_type = (
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    let accept_encoding = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok());
    if !render::accepts_gzip(accept_encoding) {
        let body = render::render(output.families(), &output.extra_labels, format);
        return ([content_type], body).into_response();
    }
    // Compressed here rather than by the router's compression layer (which
    // leaves a response with a Content-Encoding alone): rendered and gzipped
    // in pieces, the plain body of a large router never exists whole.
    let body = if output.families().map(|f| f.samples.len()).sum::<usize>() < BLOCKING_RENDER {
        render::render_gzip(output.families(), &output.extra_labels, format)
    } else {
        // Tens of milliseconds of CPU: off the runtime's threads, where other
        // probes' replies wait.
        let render = move || render::render_gzip(output.families(), &output.extra_labels, format);
        match tokio::task::spawn_blocking(render).await {
            Ok(body) => body,
            Err(e) => {
                let message = format!("rendering failed: {e}\n");
                return (StatusCode::INTERNAL_SERVER_ERROR, message).into_response();
            }
        }
    };
    let headers = [
        content_type,
        (header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
        (header::VARY, HeaderValue::from_static("accept-encoding")),
    ];
    (headers, body).into_response()
}

/// Samples from which a body is rendered on the blocking pool (a large
/// router's 170,000 take ~25 ms; a default router's 1,000, 0.2 ms).
const BLOCKING_RENDER: usize = 20_000;

/// The `debug=true` report: trace, per-collector outcome, the effective module
/// and target config (no secrets: auths are referenced by name only), and the
/// metrics the probe would have returned.
fn debug_report(output: ProbeOutput) -> String {
    let collection = &output.collection;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Probe {} in {:?} (deadline {:?})",
        if collection.success {
            "succeeded"
        } else {
            "failed"
        },
        collection.duration,
        collection.timeout
    );
    if let Some(error) = &collection.error {
        let _ = writeln!(out, "Error: {error}");
    }
    let _ = writeln!(out, "\nTrace:");
    for line in &collection.trace {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "\nCollectors:");
    for group in &collection.groups {
        let _ = writeln!(
            out,
            "  {:<14} {:?} in {:?}",
            group.name, group.status, group.duration
        );
    }
    let _ = writeln!(
        out,
        "\nTarget: {}",
        output.target.as_deref().unwrap_or_default()
    );
    let _ = writeln!(out, "\nEffective modules:");
    for module in &output.modules {
        let _ = writeln!(
            out,
            "{}",
            serde_yaml::to_string(module.as_ref()).unwrap_or_default()
        );
    }
    let _ = writeln!(out, "Metrics that would have been returned:\n");
    out.push_str(&render::render(
        output.families(),
        &output.extra_labels,
        Format::Text,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        assert_eq!(
            parse_query("target=r%201&module=a,b&module=c+d&debug").unwrap(),
            vec![
                ("target".into(), "r 1".into()),
                ("module".into(), "a,b".into()),
                ("module".into(), "c d".into()),
                ("debug".into(), "".into())
            ]
        );
        assert!(parse_query("target=%zz").is_err());
        assert!(parse_query("target=%ff").is_err());
        assert!(parse_query("target=%+5").is_err());
        assert!(parse_query("target=%-1").is_err());
        assert!(parse_query("target=%4").is_err());
        assert_eq!(
            parse_query("target=%2B%2b").unwrap(),
            vec![("target".into(), "++".into())]
        );
    }

    #[test]
    fn request_errors_name_the_problem() {
        let headers = HeaderMap::new();
        assert!(request(Some("module=full"), &headers).is_err());
        assert!(request(Some("target=a&target=b"), &headers).is_err());
        assert!(request(Some("target=a&modul=full"), &headers).is_err());
        assert!(request(Some("target=a&debug=maybe"), &headers).is_err());
        let ok = request(Some("target=a&module=x,y&module=z&debug=true"), &headers).unwrap();
        assert_eq!(ok.modules, vec!["x", "y", "z"]);
        assert!(ok.debug);
        let mut headers = HeaderMap::new();
        headers.insert(TIMEOUT_HEADER, HeaderValue::from_static("abc"));
        assert!(request(Some("target=a"), &headers).is_err());
    }

    /// Queries come from anyone: no query or header panics, every pair
    /// survives encoding and decoding, and an error repeats little of the
    /// request however long it is.
    mod fuzzed {
        use super::*;
        use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
        use proptest::prelude::*;

        fn pair() -> impl Strategy<Value = (String, String)> {
            ("\\PC{1,12}", "\\PC{0,24}")
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2048))]

            #[test]
            fn encoded_pairs_decode_to_themselves(pairs in proptest::collection::vec(pair(), 0..6)) {
                let encode = |text: &str| utf8_percent_encode(text, NON_ALPHANUMERIC).to_string();
                let raw = pairs
                    .iter()
                    .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                    .collect::<Vec<_>>()
                    .join("&");
                prop_assert_eq!(parse_query(&raw), Ok(pairs));
            }

            #[test]
            fn any_query_and_header_parse_or_fail_briefly(
                raw in prop_oneof![
                    "\\PC{0,200}",
                    "[a-z%=&+,0-9A-F]{0,200}",
                    "(target|module|auth|debug|x)=[^&]{0,300}(&(target|module|auth|debug)=[^&]{0,30}){0,4}",
                ],
                header in proptest::option::of("[ -~]{0,40}"),
            ) {
                let mut headers = HeaderMap::new();
                if let Some(value) = header.as_deref().and_then(|h| HeaderValue::from_str(h).ok()) {
                    headers.insert(TIMEOUT_HEADER, value);
                }
                if let Err(message) = request(Some(&raw), &headers) {
                    // At most two clipped values, quoted and escaped, and the words.
                    prop_assert!(message.chars().count() < 800, "{} chars", message.len());
                }
            }
        }
    }
}
