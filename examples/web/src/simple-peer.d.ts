// The app imports simple-peer's prebuilt browser bundle (it carries its own
// copies of Node's `buffer`, `events` and `stream`, so Vite needs no
// polyfills). The bundle ships without types: reuse @types/simple-peer's.
declare module 'simple-peer/simplepeer.min.js' {
  import SimplePeer = require('simple-peer');
  export = SimplePeer;
}
