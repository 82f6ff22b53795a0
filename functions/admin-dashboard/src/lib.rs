//! `GET /admin` and `GET /admin/{asset+}`: the support agents' dashboard. Its page, ES modules
//! and stylesheets are compiled into the binary, so one `sam deploy` ships the page with the API it calls.
//!
//! The page works wherever the API is mounted (`/v1` on the execute-api URL, the root of a
//! custom domain): every URL it names starts with the base path of the request that loaded it.

use chat_core::http::{error_response, request};
use chat_core::{Config, Endpoint};
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// Static files: its binary builds no DynamoDB client ([`chat_core::endpoint::run_files`]).
pub const ENDPOINT: Endpoint = Endpoint::files("admin-dashboard", handle);

const INDEX_HTML: &str = include_str!("../assets/index.html");
const APP_CSS: &str = include_str!("../assets/app.css");
/// The page's ES modules: index.html loads app.js, which imports the others (by relative URL,
/// `./store.js`). No module imports one that imports it back (a test walks the graph).
/// `push-client.js` is also the push channel's reference client for other apps.
const SCRIPTS: &[(&str, &str)] = &[
    ("app.js", include_str!("../assets/app.js")),
    ("store.js", include_str!("../assets/store.js")),
    ("api.js", include_str!("../assets/api.js")),
    ("dom.js", include_str!("../assets/dom.js")),
    ("format.js", include_str!("../assets/format.js")),
    ("sign-in.js", include_str!("../assets/sign-in.js")),
    ("chat-list.js", include_str!("../assets/chat-list.js")),
    ("holders.js", include_str!("../assets/holders.js")),
    ("chat.js", include_str!("../assets/chat.js")),
    ("assignment.js", include_str!("../assets/assignment.js")),
    ("typing.js", include_str!("../assets/typing.js")),
    (
        "canned-replies.js",
        include_str!("../assets/canned-replies.js"),
    ),
    ("analytics.js", include_str!("../assets/analytics.js")),
    ("push-client.js", include_str!("../assets/push-client.js")),
    ("live.js", include_str!("../assets/live.js")),
    ("alerts.js", include_str!("../assets/alerts.js")),
    ("list-patch.js", include_str!("../assets/list-patch.js")),
];
const ANALYTICS_CSS: &str = include_str!("../assets/analytics.css");

/// Only our own files, only over our own origin and the push channel's: no inline code, no
/// framing, no other hosts.
fn content_security_policy(push_origin: Option<&str>) -> String {
    let push = push_origin
        .map(|origin| format!(" {origin}"))
        .unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'{push}; \
         img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The origin (`wss://host[:port]`) of the push channel's URL, for the policy's `connect-src`;
/// `None` when there is none or it is not a plain WebSocket URL (nothing else may enter the
/// policy).
fn push_origin(push_url: Option<&str>) -> Option<&str> {
    let url = push_url?;
    let rest = url
        .strip_prefix("wss://")
        .or_else(|| url.strip_prefix("ws://"))?;
    let host = rest.split('/').next()?;
    let plain = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
    plain.then(|| &url[..url.len() - rest.len() + host.len()])
}

/// Changes whenever a file changes: asset URLs carry it, so they can be cached for good.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::new()
        .chain_update(INDEX_HTML)
        .chain_update(APP_CSS)
        .chain_update(ANALYTICS_CSS);
    let digest = SCRIPTS
        .iter()
        .fold(digest, |digest, (_, body)| digest.chain_update(body))
        .finalize();
    chat_core::ids::hex(&digest[..6])
});

/// The scripts as served: every import names the version too (`from './store.js'` becomes
/// `from './store.js?v=…'`), so that a module's URL, like the page's, changes with any file.
static SERVED_SCRIPTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    SCRIPTS
        .iter()
        .map(|(_, body)| {
            SCRIPTS.iter().fold(body.to_string(), |body, (name, _)| {
                body.replace(
                    &format!(" from './{name}';"),
                    &format!(" from './{name}?v={}';", *VERSION),
                )
            })
        })
        .collect()
});

static INDEX: LazyLock<String> =
    LazyLock::new(|| INDEX_HTML.replace("{{ASSET_VERSION}}", &VERSION));

/// The page for a caller who reached the API at `base_path` (already checked URL-safe); `push`:
/// whether the page opens the push channel.
fn index_page(base_path: &str, push: bool) -> String {
    INDEX
        .replace("{{BASE_PATH}}", base_path)
        .replace("{{PUSH}}", if push { "on" } else { "off" })
}

struct Asset {
    body: &'static str,
    /// The page itself: its asset and API URLs are completed per request.
    is_page: bool,
    content_type: &'static str,
    cache_control: &'static str,
}

fn asset(name: Option<&str>) -> Option<Asset> {
    // The page itself is revalidated every time (ETag); the files it names never change.
    let immutable = "public, max-age=31536000, immutable";
    match name {
        None | Some("" | "index.html") => Some(Asset {
            body: INDEX.as_str(),
            is_page: true,
            content_type: "text/html; charset=utf-8",
            cache_control: "no-cache",
        }),
        Some(name) if name.ends_with(".js") => SCRIPTS
            .iter()
            .position(|(script, _)| *script == name)
            .map(|at| Asset {
                body: SERVED_SCRIPTS[at].as_str(),
                is_page: false,
                content_type: "text/javascript; charset=utf-8",
                cache_control: immutable,
            }),
        Some("app.css") => Some(Asset {
            body: APP_CSS,
            is_page: false,
            content_type: "text/css; charset=utf-8",
            cache_control: immutable,
        }),
        Some("analytics.css") => Some(Asset {
            body: ANALYTICS_CSS,
            is_page: false,
            content_type: "text/css; charset=utf-8",
            cache_control: immutable,
        }),
        Some(_) => None,
    }
}

pub fn handle(config: &Config, request: &Request) -> Response<Body> {
    let name = request::path_param(request, "asset");
    let base_path = request::public_base_path(request);
    let Some(asset) = asset(name.as_deref()) else {
        return error_response(config, StatusCode::NOT_FOUND, "NOT_FOUND", "No such file");
    };
    let push_origin = push_origin(config.push_url.as_deref());
    // The page differs by base path and push channel, so its validator does too.
    let etag = if asset.is_page {
        let variant = format!("{base_path} {}", push_origin.unwrap_or_default());
        format!("\"{}-{}\"", *VERSION, short_hash(&variant))
    } else {
        format!("\"{}\"", *VERSION)
    };
    let unchanged = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut response = if unchanged {
        let mut response = Response::new(Body::Empty);
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else if asset.is_page {
        Response::new(Body::Text(index_page(&base_path, push_origin.is_some())))
    } else {
        Response::new(Body::Text(asset.body.to_owned()))
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, asset.content_type),
        (header::CACHE_CONTROL, asset.cache_control),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    // `push_origin` lets only header-safe characters through; were one to slip, the page keeps
    // the policy without the push origin rather than going without one.
    let policy = HeaderValue::from_str(&content_security_policy(push_origin))
        .or_else(|_| HeaderValue::from_str(&content_security_policy(None)));
    if let Ok(value) = policy {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

fn short_hash(text: &str) -> String {
    chat_core::ids::hex(&Sha256::digest(text)[..4])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The specifiers of a script's static imports (`from '…'`), in order.
    fn imports(body: &str) -> Vec<&str> {
        body.split(" from '")
            .skip(1)
            .map(|rest| &rest[..rest.find('\'').unwrap()])
            .collect()
    }

    fn script(name: &str) -> &'static str {
        SCRIPTS.iter().find(|(n, _)| *n == name).unwrap().1
    }

    #[test]
    fn the_page_names_its_assets_by_version_and_has_no_inline_code() {
        let page = index_page("/v1", true);
        assert!(page.contains(&format!(
            r#"<script type="module" src="/v1/admin/app.js?v={}"></script>"#,
            *VERSION
        )));
        assert!(page.contains(&format!("\"/v1/admin/app.css?v={}\"", *VERSION)));
        assert!(page.contains(r#"<meta name="api-base" content="/v1">"#));
        assert!(!page.contains("{{"));
        assert_eq!(INDEX.matches("<script").count(), 1, "one entry module");
        assert!(
            !INDEX.contains("<script>"),
            "the CSP forbids inline scripts"
        );
        assert!(!INDEX.contains("style="), "the CSP forbids inline styles");
        assert!(
            SCRIPTS.iter().all(|(_, body)| !body.contains("innerHTML")),
            "user text is only ever set as text"
        );
    }

    #[test]
    fn every_asset_the_page_names_is_served() {
        let names: Vec<&str> = INDEX_HTML
            .split("{{BASE_PATH}}/admin/")
            .skip(1)
            .map(|rest| rest.split_once("?v={{ASSET_VERSION}}\"").unwrap().0)
            .collect();
        assert_eq!(names, ["app.css", "analytics.css", "app.js"]);
        for name in names {
            assert!(asset(Some(name)).is_some(), "{name}");
        }
    }

    #[test]
    fn every_import_is_a_served_module_of_this_version() {
        for ((name, body), served) in SCRIPTS.iter().zip(SERVED_SCRIPTS.iter()) {
            assert!(!body.contains("import("), "{name}: static imports only");
            assert!(
                !body.contains("import '"),
                "{name}: imports name what they use"
            );
            let from = imports(body);
            assert_eq!(
                from.len(),
                body.matches("\nimport ").count() + usize::from(body.starts_with("import ")),
                "{name}: every import is `import … from './x.js';` on one line's end"
            );
            let versioned: Vec<String> =
                from.iter().map(|s| format!("{s}?v={}", *VERSION)).collect();
            assert_eq!(imports(served), versioned, "{name} as served");
            for specifier in from {
                let module = specifier.strip_prefix("./").unwrap_or(specifier);
                assert!(
                    SCRIPTS.iter().any(|(n, _)| *n == module),
                    "{name} imports {specifier}, which is not served"
                );
            }
        }
    }

    /// Served for clients other than the page (the mobile team reads the push client here): the
    #[test]
    fn the_modules_have_no_import_cycles_and_app_js_reaches_them_all() {
        // Depth-first from the entry: a module met again while its own imports are being
        // walked is a cycle.
        fn walk<'a>(name: &'a str, path: &mut Vec<&'a str>, done: &mut HashSet<&'a str>) {
            assert!(!path.contains(&name), "import cycle: {path:?} -> {name}");
            if !done.insert(name) {
                return;
            }
            path.push(name);
            for specifier in imports(script(name)) {
                walk(&specifier[2..], path, done);
            }
            path.pop();
        }
        let mut done = HashSet::new();
        walk("app.js", &mut Vec::new(), &mut done);
        let all: HashSet<&str> = SCRIPTS.iter().map(|(name, _)| *name).collect();
        assert_eq!(done, all, "every module is used, from app.js");
    }

    #[test]
    fn modules_are_javascript_and_cached_for_good_the_page_is_revalidated() {
        for (name, _) in SCRIPTS {
            let served = asset(Some(name)).unwrap();
            assert_eq!(served.content_type, "text/javascript; charset=utf-8");
            assert_eq!(served.cache_control, "public, max-age=31536000, immutable");
        }
        let page = asset(None).unwrap();
        assert!(page.is_page);
        assert_eq!(page.cache_control, "no-cache");
        assert_eq!(page.content_type, "text/html; charset=utf-8");
        assert_eq!(
            asset(Some("app.css")).unwrap().content_type,
            "text/css; charset=utf-8"
        );
    }

    #[test]
    fn the_policy_allows_only_our_own_scripts() {
        for policy in [
            content_security_policy(None),
            content_security_policy(Some("wss://abc.execute-api.eu-west-1.amazonaws.com")),
        ] {
            assert!(policy.contains("script-src 'self';"));
            assert!(policy.starts_with("default-src 'none';"));
            assert!(!policy.contains("unsafe"));
        }
    }

    #[test]
    fn the_policy_adds_only_the_push_channels_origin_to_connect_src() {
        let url = "wss://abc123.execute-api.eu-west-1.amazonaws.com/v1";
        let origin = push_origin(Some(url));
        assert_eq!(
            origin,
            Some("wss://abc123.execute-api.eu-west-1.amazonaws.com")
        );
        assert!(content_security_policy(origin).contains(
            "connect-src 'self' wss://abc123.execute-api.eu-west-1.amazonaws.com; img-src"
        ));
        assert_eq!(
            push_origin(Some("ws://127.0.0.1:3000/v1")),
            Some("ws://127.0.0.1:3000")
        );
        assert!(content_security_policy(None).contains("connect-src 'self'; img-src"));
        // Nothing but a plain WebSocket origin enters the policy.
        for bad in [
            "https://example.com/v1",
            "wss://evil.example; script-src *",
            "wss:///v1",
            "wss://host name/v1",
        ] {
            assert_eq!(push_origin(Some(bad)), None, "{bad}");
        }
        assert_eq!(push_origin(None), None);
    }

    #[test]
    fn the_page_says_whether_it_opens_the_push_channel() {
        assert!(index_page("/v1", true).contains(r#"<meta name="push" content="on">"#));
        assert!(index_page("", false).contains(r#"<meta name="push" content="off">"#));
    }

    #[test]
    fn only_known_files_are_served() {
        assert!(asset(Some("../Cargo.toml")).is_none());
        assert!(asset(Some("secrets.json")).is_none());
        assert!(asset(Some("team-extras.js")).is_none());
    }
}
