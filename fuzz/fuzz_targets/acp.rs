//! ACP evaluation over random ACR graphs never panics, never grants a mode unless a policy
//! the ACR applies (through the right link) allows it and has a matcher that fits the
//! requester, and never grants a mode that a satisfied policy denies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podplane_fuzz::access::{acp, requesters, triples, Raw, ALICE, BOB, MODES, VC_TYPE};
use podplane_solid::access::acp::{acr_modes, granted, Acr, Context};
use podplane_solid::access::Modes;

fuzz_target!(|data: &[u8]| {
    let Some(triples) = triples(data) else {
        return;
    };
    let parsed = Acr::parse(&triples);
    let raw = Raw::new(&triples);
    let with_vc = [VC_TYPE.to_owned()];
    for who in requesters() {
        for vcs in [&[][..], &with_vc[..]] {
            let ctx = Context {
                who: &who,
                owner: Some(ALICE),
                creator: Some(BOB),
                vcs,
            };
            let sets = [
                (&parsed.access_control, "accessControl", "apply"),
                (
                    &parsed.member_access_control,
                    "memberAccessControl",
                    "apply",
                ),
                (&parsed.acr_access, "accessControl", "access"),
                (&parsed.member_acr_access, "memberAccessControl", "access"),
            ];
            let mut results = Vec::new();
            for (policies, link, via) in sets {
                let modes = granted(policies.iter(), &ctx);
                results.push(modes);
                for (mode, iris) in MODES {
                    if !modes.contains(mode) {
                        continue;
                    }
                    assert!(
                        rule_exists(&raw, &acp(link), &acp(via), &ctx, iris),
                        "{mode} granted to {who:?} through {link}/{via} without a policy"
                    );
                    for p in policies.iter().filter(|p| p.satisfied(&ctx)) {
                        assert!(
                            Modes::ALL.minus(p.deny).contains(mode),
                            "{mode} granted to {who:?} although a satisfied policy denies {}",
                            p.deny
                        );
                    }
                }
            }
            let acr = acr_modes(results[2], results[0]);
            assert!(
                acr.is_empty() || !results[2].is_empty() || results[0].contains(Modes::CONTROL)
            );
        }
    }
});

/// Some policy applied through `link`/`via` allows one of `iris`, has an allOf or anyOf
/// matcher, each of its allOf matchers fits the requester on some attribute, and some allOf
/// or anyOf matcher does. A necessary condition of satisfaction, computed from raw triples.
fn rule_exists(raw: &Raw, link: &str, via: &str, ctx: &Context<'_>, iris: &[&str]) -> bool {
    let allow = acp("allow");
    let (all_of, any_of) = (acp("allOf"), acp("anyOf"));
    raw.subjects(link)
        .flat_map(|s| raw.objects(s, link))
        .flat_map(|c| raw.objects(c, via))
        .filter(|p| iris.iter().any(|m| raw.has(p, &allow, m)))
        .any(|p| {
            let all: Vec<&str> = raw.objects(p, &all_of).collect();
            let any: Vec<&str> = raw.objects(p, &any_of).collect();
            (!all.is_empty() || !any.is_empty())
                && all.iter().all(|m| fits(raw, m, ctx))
                && all.iter().chain(&any).any(|m| fits(raw, m, ctx))
        })
}

fn fits(raw: &Raw, matcher: &str, ctx: &Context<'_>) -> bool {
    let who = ctx.who;
    let webid = who.webid.as_deref();
    let values = |p: &str| {
        let p = acp(p);
        raw.objects(matcher, &p)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let agent = values("agent").iter().any(|a| {
        *a == acp("PublicAgent")
            || (webid.is_some()
                && (*a == acp("AuthenticatedAgent")
                    || (*a == acp("OwnerAgent") && webid == ctx.owner)
                    || (*a == acp("CreatorAgent") && webid == ctx.creator)
                    || webid == Some(a.as_str())))
    });
    let client = values("client")
        .iter()
        .any(|c| *c == acp("PublicClient") || who.client_id.as_deref() == Some(c.as_str()));
    let issuer = values("issuer").iter().any(|i| {
        *i == acp("PublicIssuer")
            || who
                .issuer
                .as_deref()
                .is_some_and(|h| h.trim_end_matches('/') == i.trim_end_matches('/'))
    });
    let vc = values("vc").iter().any(|v| ctx.vcs.contains(v));
    agent || client || issuer || vc
}
