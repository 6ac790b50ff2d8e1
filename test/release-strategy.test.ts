import { ReleaseStrategy } from '../constructs/release-strategy';
import { checkImageTag } from '../constructs/validation';

describe('checkImageTag', () => {
  const RULE = 'must be a pinned image tag that is also a label value (at most 63 letters, digits, "_", "." or "-", '
    + 'starting and ending with a letter or digit; a version like v1.4.2 or a commit SHA)';

  test.each([
    'v1.4.2', '0d7f3c4e9b2a8f1e6d5c4b3a2f1e0d9c8b7a6f5e', '1', 'v', 'v1.4.2-rc.1', 'release_2024.06', 'V2', `v${'1'.repeat(62)}`,
  ])('GIVEN the tag %j WHEN checked THEN it is accepted', (tag) => {
    expect(checkImageTag(tag)).toBeUndefined();
  });

  test.each([
    // a valid Docker tag, but not a label value: too long, or not alphanumeric at both ends
    [`v${'1'.repeat(63)}`], ['a'.repeat(128)], ['_v1'], ['v1-'], ['v1.'], ['v1_'], ['.v1'], ['-v1'],
    // not a Docker tag either
    [''], ['v1:2'], ['v1 2'], ['v1/2'], ['v1@sha256'], ['ü1'], [1.4], [null], [undefined],
  ])('GIVEN the tag %p WHEN checked THEN the rule states the 63 limit', (tag) => {
    expect(checkImageTag(tag)).toBe(RULE);
  });

  test.each(['latest', 'LATEST', 'Latest'])('GIVEN %j WHEN checked THEN it is refused as floating', (tag) => {
    expect(checkImageTag(tag)).toBe('must be a pinned tag (a version like v1.4.2 or a commit SHA), not "latest"');
  });

  test('GIVEN a 64-character tag WHEN a rolling release is declared with it THEN it throws before the tag becomes a label', () => {
    const tag = `v${'1'.repeat(63)}`;
    expect(() => ReleaseStrategy.rolling({ imageTag: tag })).toThrow(`ReleaseStrategy.rolling: imageTag ${RULE}, got "${tag}"`);
  });
});
