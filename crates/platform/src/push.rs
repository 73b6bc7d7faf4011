//! Which push-service endpoints the services accept. The backend checks a browser's
//! subscription when it is registered and the ai-agent checks it again before each send, with
//! the same rule and the same settings: without it, a signed-in user could register any URL
//! and make the sender POST to hosts inside the cluster.

use clap::Args;
use reqwest::Url;

/// Longest accepted endpoint; the browsers' push services use a few hundred characters.
pub const MAX_ENDPOINT_CHARS: usize = 2048;

#[derive(Debug, Clone, Args)]
pub struct PushEndpointConfig {
    /// Hosts (comma-separated) whose push endpoints are accepted: each entry matches itself
    /// and its subdomains. The defaults are the push services of Chrome/Edge (FCM), Firefox,
    /// Safari and Windows.
    #[arg(
        long,
        env = "PUSH_ENDPOINT_HOSTS",
        value_delimiter = ',',
        default_value = "fcm.googleapis.com,updates.push.services.mozilla.com,push.apple.com,notify.windows.com"
    )]
    pub push_endpoint_hosts: Vec<String>,

    /// Accept `http://` endpoints too (tests and the local push-service stand-in only).
    #[arg(long, env = "PUSH_ALLOW_HTTP_ENDPOINTS", default_value_t = false, action = clap::ArgAction::Set)]
    pub push_allow_http_endpoints: bool,
}

impl PushEndpointConfig {
    /// The endpoint as a URL when it is one the sender may reach, or why not (a sentence to
    /// follow the field name).
    pub fn check(&self, endpoint: &str) -> Result<Url, &'static str> {
        if endpoint.chars().count() > MAX_ENDPOINT_CHARS {
            return Err("must be at most 2048 characters");
        }
        let url = Url::parse(endpoint).map_err(|_| "must be an absolute URL")?;
        match url.scheme() {
            "https" => {}
            "http" if self.push_allow_http_endpoints => {}
            _ => return Err("must be an https URL"),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry credentials");
        }
        let host = url.host_str().ok_or("must be an absolute URL")?.to_ascii_lowercase();
        let allowed = self.push_endpoint_hosts.iter().map(|h| h.trim().to_ascii_lowercase()).any(|suffix| {
            !suffix.is_empty()
                && (host == suffix || host.strip_suffix(&suffix).is_some_and(|rest| rest.ends_with('.')))
        });
        if !allowed {
            return Err("is not at a known push service");
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        push: PushEndpointConfig,
    }

    fn defaults() -> PushEndpointConfig {
        Cli::parse_from(["test"]).push
    }

    #[test]
    fn the_browsers_push_services_are_accepted_by_default() {
        let policy = defaults();
        for endpoint in [
            "https://fcm.googleapis.com/fcm/send/abc:def",
            "https://updates.push.services.mozilla.com/wpush/v2/gAAA",
            "https://web.push.apple.com/QGx",
            "https://wns2-par02p.notify.windows.com/w/?token=x",
        ] {
            assert!(policy.check(endpoint).is_ok(), "{endpoint}");
        }
    }

    #[test]
    fn other_hosts_and_lookalikes_are_refused() {
        let policy = defaults();
        for endpoint in [
            "https://example.com/push",
            "https://evilfcm.googleapis.com/x",
            "https://fcm.googleapis.com.evil.com/x",
            "https://127.0.0.1/x",
        ] {
            assert_eq!(policy.check(endpoint).unwrap_err(), "is not at a known push service", "{endpoint}");
        }
    }

    #[test]
    fn plain_http_needs_the_opt_in() {
        let mut policy = defaults();
        policy.push_endpoint_hosts = vec!["127.0.0.1".into()];
        assert_eq!(policy.check("http://127.0.0.1:9/push/1").unwrap_err(), "must be an https URL");
        policy.push_allow_http_endpoints = true;
        assert!(policy.check("http://127.0.0.1:9/push/1").is_ok());
        assert_eq!(policy.check("ftp://127.0.0.1/x").unwrap_err(), "must be an https URL");
    }

    #[test]
    fn relative_long_and_credentialed_endpoints_are_refused() {
        let policy = defaults();
        assert_eq!(policy.check("/push/1").unwrap_err(), "must be an absolute URL");
        let long = format!("https://fcm.googleapis.com/{}", "a".repeat(2048));
        assert_eq!(policy.check(&long).unwrap_err(), "must be at most 2048 characters");
        assert_eq!(
            policy.check("https://u:p@fcm.googleapis.com/x").unwrap_err(),
            "must not carry credentials"
        );
    }
}
