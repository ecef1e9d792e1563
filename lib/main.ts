// Entry point of the bundle that bin/capsa runs.
import { main } from './cli';

main(process.argv.slice(2));
