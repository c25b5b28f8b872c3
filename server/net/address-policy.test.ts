import { describe, expect, it } from 'vitest';
import { addressPolicy, isPrivateAddress } from './address-policy.js';

describe('the fetch address policy', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.9',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    'fc00::abcd',
    '::ffff:127.0.0.1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::10.0.0.1',
    '64:ff9b:0:0:0:0:a9fe:a9fe',
    '224.0.0.1',
    '::ffff:0a00:0001',
    '0:0:0:0:0:ffff:7f00:1',
    '::127.0.0.1',
    'fe80::1%eth0',
    // 6to4 carrying loopback, metadata and private IPv4 addresses.
    '2002:7f00:1::',
    '2002:a9fe:a9fe::1',
    '2002:0a00:0001:0:0:0:0:1',
    '2002:c0a8:0101::',
    // Teredo, whatever it carries.
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '2001::1',
  ])('treats %s as private', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
    '2001:4860:4860::8888',
  ])('treats %s as public', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it('lets the allow list and the development switch through, and nothing else', () => {
    const strict = addressPolicy({ allowPrivate: false, allowList: '10.0.0.0/8, 192.168.1.5' });
    expect(strict.refuse('10.9.9.9')).toBeNull();
    expect(strict.refuse('192.168.1.5')).toBeNull();
    expect(strict.refuse('192.168.1.6')).toContain('private');
    expect(strict.refuse('169.254.169.254')).toContain('private');
    expect(addressPolicy({ allowPrivate: true, allowList: '' }).refuse('127.0.0.1')).toBeNull();
    expect(() => addressPolicy({ allowPrivate: false, allowList: 'intranet.local' })).toThrow(/not an IP/);
  });
});
