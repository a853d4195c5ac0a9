//! The operator's own AWS credentials, loaded the standard way.
//!
//! `aws-config` resolves them exactly as the AWS CLI would: environment
//! variables, the shared config and credentials files (static keys, SSO,
//! `credential_process`, `role_arn` chains), web identity tokens, and
//! container and instance roles. A named profile (`--profile`) wins over
//! environment variables, as it does for the CLI (aws-config's default chain
//! would try `AWS_ACCESS_KEY_ID` first). Nothing found in a scan ever reaches
//! this module.
//!
//! The chain's providers do not cache, and an SSO provider makes a request
//! per call, so the credentials are kept here and fetched again only five
//! minutes before they expire.

use super::{OwnerError, OwnerOptions};
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_types::error::display::DisplayErrorContext;
use std::time::{Duration, SystemTime};
use tokio::sync::Mutex;

/// Credentials this close to expiry are fetched again.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);

pub(crate) struct OperatorCredentials {
    provider: SharedCredentialsProvider,
    current: Mutex<Option<Credentials>>,
}

impl OperatorCredentials {
    /// Resolves the credentials chain (without fetching yet) and the region
    /// the profile or environment names, if any.
    pub(crate) async fn load(
        opts: &OwnerOptions,
        http: SharedHttpClient,
    ) -> Result<(OperatorCredentials, Option<String>), OwnerError> {
        let files = opts.config_files.as_ref().map(|f| {
            let mut b = EnvConfigFiles::builder();
            if let Some(p) = &f.config {
                b = b.with_file(EnvConfigFileKind::Config, p);
            }
            if let Some(p) = &f.credentials {
                b = b.with_file(EnvConfigFileKind::Credentials, p);
            }
            b.build()
        });
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http.clone());
        if let Some(f) = &files {
            loader = loader.profile_files(f.clone());
        }
        if let Some(region) = &opts.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(name) = &opts.profile {
            loader = loader.profile_name(name);
            let config = ProviderConfig::default()
                .with_http_client(http)
                .with_region(opts.region.clone().map(aws_config::Region::new));
            let mut profile = ProfileFileCredentialsProvider::builder()
                .configure(&config)
                .profile_name(name);
            if let Some(f) = &files {
                profile = profile.profile_files(f.clone());
            }
            loader = loader.credentials_provider(profile.build());
        }
        let config = loader.load().await;
        let provider = config
            .credentials_provider()
            .ok_or_else(|| OwnerError::Credentials("no credentials provider".into()))?;
        let region = config.region().map(|r| r.as_ref().to_string());
        Ok((
            OperatorCredentials {
                provider,
                current: Mutex::new(None),
            },
            region,
        ))
    }

    /// Current credentials, fetched on first use and before they expire.
    pub(crate) async fn get(&self) -> Result<Credentials, String> {
        let mut current = self.current.lock().await;
        if let Some(c) = current.as_ref() {
            if fresh(c.expiry()) {
                return Ok(c.clone());
            }
        }
        let c = self
            .provider
            .provide_credentials()
            .await
            .map_err(|e| DisplayErrorContext(&e).to_string())?;
        *current = Some(c.clone());
        Ok(c)
    }
}

/// True when credentials expiring at `expiry` may still be used.
pub(crate) fn fresh(expiry: Option<SystemTime>) -> bool {
    match expiry {
        None => true,
        Some(at) => at
            .duration_since(SystemTime::now())
            .is_ok_and(|left| left > REFRESH_BEFORE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_refreshed_before_they_expire() {
        let now = SystemTime::now();
        assert!(fresh(None), "long-term credentials never expire");
        assert!(fresh(Some(now + Duration::from_secs(3600))));
        assert!(!fresh(Some(now + Duration::from_secs(60))));
        assert!(!fresh(Some(now - Duration::from_secs(1))));
    }
}
