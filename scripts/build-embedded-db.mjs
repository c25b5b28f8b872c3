// Builds the embedded database launcher (embedded-db/) into one jar with Maven.
// `--if-missing` skips the build when the jar already exists (used by `npm start`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const jar = 'embedded-db/target/wisp-embedded-db.jar';
if (process.argv.includes('--if-missing') && existsSync(jar)) process.exit(0);

const hasJava = spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;
const hasMaven = spawnSync('mvn', ['-v'], { stdio: 'ignore' }).status === 0;
if (!hasJava || !hasMaven) {
  console.error(
    'wisp: building the embedded database needs Java 17+ and Maven (or set MONGODB_URI to use your own MongoDB)',
  );
  process.exit(process.argv.includes('--if-missing') ? 0 : 1);
}
console.log(`Building the embedded database launcher with Maven -> ${jar}`);
const result = spawnSync('mvn', ['-q', '-B', '-f', 'embedded-db/pom.xml', 'package', '-DskipTests'], {
  stdio: 'inherit',
});
if (result.status !== 0) {
  console.error('wisp: the Maven build of embedded-db failed (see above)');
  process.exit(result.status ?? 1);
}
console.log('Embedded database launcher built.');
