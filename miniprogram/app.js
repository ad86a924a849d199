const api = require('./utils/api')

App({
  onLaunch() {
    // Log in as early as possible; pages wait on the same promise (api.ensureLogin()).
    // A failure here is shown by the page that needs the session, with a retry.
    api.ensureLogin().catch(() => {})
  },
  globalData: {},
})
