//! Every fixture's rendered YAML, reviewed as a snapshot (`cargo insta review` after a change).

use crate::{fixtures, rendered};

#[test]
fn every_fixture_renders_as_its_snapshot() {
    for fixture in fixtures::all() {
        let yaml = rendered(&fixture).to_yaml();
        insta::assert_snapshot!(fixture.name, yaml);
    }
}

#[test]
fn the_same_input_gives_the_same_bytes_whatever_the_domain_order() {
    let fixture = fixtures::full();
    let first = rendered(&fixture).to_yaml();
    assert_eq!(first, rendered(&fixtures::full()).to_yaml());
    let mut reordered = fixtures::full();
    reordered.domains.reverse();
    assert_eq!(first, rendered(&reordered).to_yaml());
}
