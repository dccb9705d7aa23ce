// The check that a kernel config fragment survived Kconfig: what buildKernel refuses to build on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configLines, unmetOptions } from '../src/build/buildKernel.ts';

const fragment = `# comment
CONFIG_EXT4_FS=m
CONFIG_PVH=y
CONFIG_FAT_DEFAULT_IOCHARSET="ascii"
# CONFIG_ACPI is not set
# CONFIG_CPU_MITIGATIONS is not set
`;

test('configLines keeps settings and "is not set" lines, not comments', () => {
  assert.equal(configLines(fragment), ['CONFIG_EXT4_FS=m', 'CONFIG_PVH=y', 'CONFIG_FAT_DEFAULT_IOCHARSET="ascii"', '# CONFIG_ACPI is not set', '# CONFIG_CPU_MITIGATIONS is not set']);
});

test('a config that honours the fragment leaves nothing unmet; options it never mentions count as not set', () => {
  const config = 'CONFIG_EXT4_FS=m\nCONFIG_PVH=y\nCONFIG_FAT_DEFAULT_IOCHARSET="ascii"\n# CONFIG_ACPI is not set\nCONFIG_64BIT=y\n';
  assert.equal(unmetOptions(fragment, config), []);
});

test('options Kconfig dropped, changed or turned on against the fragment are reported', () => {
  const config = 'CONFIG_EXT4_FS=y\nCONFIG_FAT_DEFAULT_IOCHARSET="iso8859-1"\nCONFIG_ACPI=y\n# CONFIG_CPU_MITIGATIONS is not set\n';
  assert.equal(unmetOptions(fragment, config), ['CONFIG_EXT4_FS=m', 'CONFIG_PVH=y', 'CONFIG_FAT_DEFAULT_IOCHARSET="ascii"', '# CONFIG_ACPI is not set']);
});

test.run();
