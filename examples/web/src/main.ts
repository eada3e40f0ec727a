// Entry point: reads the settings, wires the join form and the settings
// panel, and starts the app.

import 'bootstrap/dist/css/bootstrap.min.css';
import './style.css';

import { App } from './app';
import { loadSavedIceServers, loadSavedRelayOnly, parseIceServers, readConfig, saveIceServers, saveRelayOnly } from './config';
import { errorMessage, logError } from './log';
import { installTestHook } from './testhook';
import { windowTimers } from './timers';
import { byId, showNotice } from './ui';

const config = readConfig();
const initialIceServers = config.iceFromUrl ?? loadSavedIceServers();
const app = new App(config, initialIceServers, window.signalrtcTimers ?? windowTimers);
let joining = false;

function setUpJoinForm(): void {
  const form = byId('join-form', HTMLFormElement);
  const nameInput = byId('name', HTMLInputElement);
  nameInput.value = config.name;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void join(nameInput.value.trim());
  });
  if (config.autojoin && config.name.trim() !== '') void join(config.name.trim());
  else nameInput.focus();
}

async function join(name: string): Promise<void> {
  const button = byId('join', HTMLButtonElement);
  const status = byId('join-status', HTMLDivElement);
  if (joining || name === '') return;
  joining = true;
  button.disabled = true;
  status.textContent = 'Joining…';
  try {
    await app.join(name);
    showJoined(name);
  } catch (err) {
    logError('join', config.hubUrl, err);
    status.textContent = `Could not join: ${errorMessage(err) || 'the hub did not answer'}`;
    button.disabled = false;
  } finally {
    joining = false;
  }
}

function showJoined(name: string): void {
  byId('me', HTMLElement).textContent = name;
  byId('me-wrap', HTMLSpanElement).hidden = false;
  byId('join-view', HTMLElement).hidden = true;
  byId('app-view', HTMLElement).hidden = false;
  document.title = `${name} · signalrtc`;
  document.body.setAttribute('data-joined', '1');
}

function setUpSettings(initial: RTCIceServer[], relayOnly: boolean): void {
  const form = byId('settings-form', HTMLFormElement);
  const field = byId('ice-servers', HTMLTextAreaElement);
  const relay = byId('relay-only', HTMLInputElement);
  field.value = initial.length ? JSON.stringify(initial, null, 2) : '';
  relay.checked = relayOnly;
  app.setRelayOnly(relayOnly);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = field.value.trim();
    const servers = text === '' ? [] : parseIceServers(text);
    field.classList.toggle('is-invalid', servers === null);
    if (servers === null) {
      showNotice('ICE servers must be a JSON array of objects with "urls".', 'danger');
      return;
    }
    saveIceServers(servers);
    saveRelayOnly(relay.checked);
    app.setIceServers(servers);
    app.setRelayOnly(relay.checked);
    showNotice(`ICE servers saved (${servers.length}${relay.checked ? ', relay only' : ''}); used for new calls.`);
  });
}

// Start-up, after every declaration above (autojoin calls join() at once).
installTestHook(app);
setUpSettings(initialIceServers, config.relayFromUrl ?? loadSavedRelayOnly());
setUpJoinForm();
