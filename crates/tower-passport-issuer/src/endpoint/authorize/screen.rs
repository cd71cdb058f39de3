//! The approval screen: what it is given ([`ApprovalContext`]), the trait that renders it
//! ([`ApprovalScreen`], also implemented for closures), the default page, and the
//! security headers every page of the authorization endpoint carries.

use std::borrow::Cow;
use std::sync::LazyLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::ScopeDefinition;

/// What an approval screen shows and posts back. Every value is raw text: escape it
/// ([`escape_html`]) when you put it in HTML.
///
/// ```
/// use tower_passport_issuer::endpoint::{escape_html, ApprovalContext};
/// fn scope_list(context: &ApprovalContext<'_>) -> String {
///     context.scopes().iter().map(|scope| format!("<li>{}</li>", escape_html(&scope.description))).collect()
/// }
/// ```
#[derive(Debug)]
pub struct ApprovalContext<'a> {
    pub(crate) client_name: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) redirect_uri: &'a str,
    pub(crate) user_id: &'a str,
    pub(crate) scopes: Vec<ScopeDefinition>,
    pub(crate) action: String,
    pub(crate) fields: Vec<(&'static str, String)>,
}

impl ApprovalContext<'_> {
    /// The client's name, as registered (by whoever registered it: escape it).
    pub fn client_name(&self) -> &str {
        self.client_name
    }

    /// The client's id.
    pub fn client_id(&self) -> &str {
        self.client_id
    }

    /// Where the browser goes after the decision.
    pub fn redirect_uri(&self) -> &str {
        self.redirect_uri
    }

    /// The host of [`redirect_uri`](Self::redirect_uri) (or its scheme, for a native app's
    /// private-use scheme): the part worth showing.
    pub fn redirect_host(&self) -> &str {
        let after_scheme = self.redirect_uri.split_once("://").map_or(self.redirect_uri, |(_, rest)| rest);
        let end = after_scheme.find(['/', '?']).unwrap_or(after_scheme.len());
        match &after_scheme[..end] {
            "" => self.redirect_uri.split(':').next().unwrap_or_default(),
            host => host,
        }
    }

    /// The signed-in user's id.
    pub fn user_id(&self) -> &str {
        self.user_id
    }

    /// The requested scopes, with their descriptions from the
    /// [`ScopeRegistry`](crate::ScopeRegistry).
    pub fn scopes(&self) -> &[ScopeDefinition] {
        &self.scopes
    }

    /// Where both forms post (`method="post"`), a path on the page's own origin.
    pub fn form_action(&self) -> &str {
        &self.action
    }

    /// The hidden fields both forms must carry: the authorization request and the CSRF
    /// token (`csrf_token`), bound to this request and this user. Each form adds
    /// `decision=approve` or `decision=deny`.
    pub fn hidden_fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(name, value)| (*name, value.as_str()))
    }

    /// [`hidden_fields`](Self::hidden_fields) as escaped `<input type="hidden">` elements.
    pub fn hidden_inputs(&self) -> String {
        self.hidden_fields()
            .map(|(name, value)| {
                format!(
                    r#"<input type="hidden" name="{}" value="{}">"#,
                    escape_html(name),
                    escape_html(value)
                )
            })
            .collect()
    }
}

/// Renders the approval screen: the default one, or your own (Passport's published views).
///
/// The page must post [`ApprovalContext::hidden_fields`] and a `decision` (`approve` or `deny`)
/// to [`ApprovalContext::form_action`], as plain forms.
///
/// The endpoint adds the headers: `Cache-Control: no-store`, `X-Frame-Options: DENY`,
/// and a `Content-Security-Policy` made of
/// [`content_security_policy`](Self::content_security_policy) plus `form-action` (this
/// origin and the client's redirect origin) and `frame-ancestors 'none'`, which it always
/// sets itself.
///
/// Implemented for closures `Fn(&ApprovalContext<'_>) -> String`:
///
/// ```
/// use tower_passport_issuer::endpoint::{escape_html, ApprovalContext, ApprovalScreen};
/// let screen = |context: &ApprovalContext<'_>| {
///     let form = |decision: &str, label: &str| format!(
///         r#"<form method="post" action="{}">{}<input type="hidden" name="decision" value="{decision}"><button>{label}</button></form>"#,
///         escape_html(context.form_action()), context.hidden_inputs(),
///     );
///     format!(
///         r#"<!DOCTYPE html><link rel="stylesheet" href="/app.css"><h1>{} wants access</h1>{}{}"#,
///         escape_html(context.client_name()), form("approve", "Approve"), form("deny", "Deny"),
///     )
/// };
/// # fn is_screen<T: ApprovalScreen>(_: &T) {}
/// # is_screen(&screen);
/// ```
pub trait ApprovalScreen: Send + Sync + 'static {
    /// The page, as HTML.
    fn render(&self, context: &ApprovalContext<'_>) -> String;

    /// The page's `Content-Security-Policy`, without `form-action` and
    /// `frame-ancestors` (the endpoint sets those). By default, stylesheets and images from
    /// this origin and nothing else: `default-src 'none'; style-src 'self'; img-src 'self';
    /// base-uri 'none'`.
    fn content_security_policy(&self) -> Cow<'static, str> {
        Cow::Borrowed("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'")
    }
}

impl<F> ApprovalScreen for F
where
    F: Fn(&ApprovalContext<'_>) -> String + Send + Sync + 'static,
{
    fn render(&self, context: &ApprovalContext<'_>) -> String {
        self(context)
    }
}

/// Escapes `text` for HTML text and quoted attribute values: `&`, `<`, `>`, `"` and `'`.
///
/// ```
/// use tower_passport_issuer::endpoint::escape_html;
/// assert_eq!(escape_html(r#"<script>alert("1")</script>"#), "&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt;");
/// ```
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#x27;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The one inline style block of the default pages; the CSP allows it by its hash.
const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1c2024;--muted:#5b6470;--bg:#f3f4f6;--card:#fff;--line:#d9dde3;--accent:#1d4ed8}\
@media (prefers-color-scheme:dark){:root{--fg:#e8eaed;--muted:#a3acb8;--bg:#15171a;--card:#202327;--line:#3a3f46;--accent:#7aa2ff}}\
*{box-sizing:border-box}\
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;padding:1rem;\
background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif}\
main{width:100%;max-width:28rem;background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1.5rem}\
h1{font-size:1.25rem;line-height:1.35;margin:0 0 .75rem;font-weight:600}\
h1 strong{font-weight:700}\
h2{font-size:1rem;margin:1.25rem 0 .5rem}\
p{margin:.5rem 0}\
.muted{color:var(--muted);font-size:.9rem}\
ul{margin:.25rem 0 0;padding-left:1.25rem}\
li{margin:.25rem 0}\
ul.scopes{list-style:none;padding:0;margin:.5rem 0 0;border:1px solid var(--line);border-radius:8px}\
ul.scopes li{margin:0;padding:.625rem .75rem .625rem 2.25rem;position:relative;border-top:1px solid var(--line)}\
ul.scopes li:first-child{border-top:0}\
ul.scopes li::before{content:\"\\2713\";position:absolute;left:.875rem;color:var(--accent);font-weight:700}\
strong{overflow-wrap:anywhere}\
.buttons{display:flex;gap:.75rem;margin-top:1.5rem}\
.buttons form{flex:1;margin:0}\
button{width:100%;min-height:2.75rem;border-radius:8px;font:inherit;font-weight:600;cursor:pointer;\
border:1px solid var(--line);background:transparent;color:var(--fg)}\
button.approve{background:var(--accent);border-color:var(--accent);color:#fff}\
button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}";

/// The `'sha256-…'` source of [`STYLE`].
static STYLE_HASH: LazyLock<String> = LazyLock::new(|| {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, STYLE.as_bytes());
    format!("'sha256-{}'", STANDARD.encode(digest.as_ref()))
});

/// The default pages' CSP, before `form-action` and `frame-ancestors`.
pub(crate) fn default_policy() -> String {
    format!("default-src 'none'; style-src {}; base-uri 'none'", &*STYLE_HASH)
}

pub(super) fn page(title: &str, main: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n\
         <body>\n<main>\n{main}\n</main>\n</body>\n</html>\n",
        escape_html(title)
    )
}

/// Passport's approval screen, with Approve and Deny.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DefaultScreen;

impl ApprovalScreen for DefaultScreen {
    fn render(&self, context: &ApprovalContext<'_>) -> String {
        let client = escape_html(context.client_name());
        let scopes = if context.scopes().is_empty() {
            "<p class=\"muted\">It asks for no specific permissions.</p>".to_owned()
        } else {
            let items: String = context
                .scopes()
                .iter()
                .map(|scope| format!("<li>{}</li>", escape_html(&scope.description)))
                .collect();
            format!("<h2>It will be able to:</h2>\n<ul class=\"scopes\">{items}</ul>")
        };
        let form = |decision: &str, class: &str, label: &str| {
            format!(
                "<form method=\"post\" action=\"{}\">{}<input type=\"hidden\" name=\"decision\" value=\"{decision}\">\
                 <button type=\"submit\" class=\"{class}\">{label}</button></form>",
                escape_html(context.form_action()),
                context.hidden_inputs(),
            )
        };
        let main = format!(
            "<h1><strong>{client}</strong> wants to access your account</h1>\n\
             {scopes}\n\
             <p class=\"muted\">Approve only if you trust this application. Whichever you choose, \
             you will be sent back to <strong>{}</strong>.</p>\n\
             <div class=\"buttons\">{}{}</div>",
            escape_html(context.redirect_host()),
            form("approve", "approve", "Approve"),
            form("deny", "deny", "Deny"),
        );
        page(&format!("Authorize {}", context.client_name()), &main)
    }

    fn content_security_policy(&self) -> Cow<'static, str> {
        Cow::Owned(default_policy())
    }
}

/// The page shown for an error that must not be redirected (an unknown client or
/// redirect URI, a refused approval form).
pub(crate) fn error_page(description: &str) -> String {
    let main = format!(
        "<h1>This authorization request cannot be completed</h1>\n<p>{}</p>\n\
         <p class=\"muted\">Go back to the application and try again.</p>",
        escape_html(description)
    );
    page("Authorization error", &main)
}

/// `policy` without any `form-action` or `frame-ancestors` directive, then those two as
/// the endpoint sets them (`form_action` sources after `'self'`).
pub(crate) fn full_policy(policy: &str, form_action: Option<&str>) -> String {
    let mut directives: Vec<&str> = policy
        .split(';')
        .map(str::trim)
        .filter(|directive| {
            let name = directive.split_ascii_whitespace().next().unwrap_or_default();
            !name.is_empty()
                && !name.eq_ignore_ascii_case("form-action")
                && !name.eq_ignore_ascii_case("frame-ancestors")
        })
        .collect();
    let form_action = match form_action {
        Some(source) => format!("form-action 'self' {source}"),
        None => "form-action 'self'".to_owned(),
    };
    directives.push(&form_action);
    directives.push("frame-ancestors 'none'");
    directives.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(name: &'static str) -> ApprovalContext<'static> {
        ApprovalContext {
            client_name: name,
            client_id: "app",
            redirect_uri: "https://app.example.com/cb",
            user_id: "7",
            scopes: vec![ScopeDefinition { id: "read".into(), description: "Read <your> posts".into() }],
            action: "/oauth/authorize".into(),
            fields: vec![("client_id", "app".into()), ("state", "\"><script>x</script>".into())],
        }
    }

    #[test]
    fn the_default_screen_escapes_every_value() {
        let html = DefaultScreen.render(&context("<script>alert(1)</script>"));
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("Read &lt;your&gt; posts"));
        assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""));
        assert!(html.contains(">Approve</button>") && html.contains(">Deny</button>"));
        assert!(html.contains("width=device-width"));
    }

    #[test]
    fn the_policy_hashes_the_one_style_block_and_sets_form_action_and_frame_ancestors() {
        let html = DefaultScreen.render(&context("App"));
        assert_eq!(html.matches("<style>").count(), 1);
        let policy = full_policy(&DefaultScreen.content_security_policy(), Some("https://app.example.com"));
        assert!(policy.starts_with("default-src 'none'; style-src 'sha256-"), "{policy}");
        assert!(policy.ends_with("form-action 'self' https://app.example.com; frame-ancestors 'none'"));
        assert!(!policy.contains('*') && !policy.contains("unsafe-inline"));
        let custom = full_policy("default-src 'self'; form-action *; frame-ancestors *", None);
        assert_eq!(custom, "default-src 'self'; form-action 'self'; frame-ancestors 'none'");
    }

    #[test]
    fn the_redirect_host_is_what_the_screen_names() {
        let mut shown = context("App");
        assert_eq!(shown.redirect_host(), "app.example.com");
        shown.redirect_uri = "com.example.app:/oauth2redirect";
        assert_eq!(shown.redirect_host(), "com.example.app:");
        shown.redirect_uri = "http://127.0.0.1:5000/cb?x=1";
        assert_eq!(shown.redirect_host(), "127.0.0.1:5000");
    }
}
