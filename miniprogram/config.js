// Where the mini-program finds the API, and a few local-development switches.
// For a real release, apiBase must be an HTTPS domain listed in the mini-program's
// "request 合法域名" (WeChat console -> 开发管理 -> 开发设置 -> 服务器域名).
module.exports = {
  apiBase: 'http://127.0.0.1:8000',
  // Community code pre-filled on the binding form.
  defaultCommunity: 'demo',
  // Request timeout in milliseconds (slow phones on weak networks: be generous).
  timeout: 15000,
  // Photo upload timeout in milliseconds (a compressed photo on a weak 4G connection can take a while).
  uploadTimeout: 60000,

  // Local development with the WeChat sandbox (server/sandbox) only. The sandbox does not
  // know the codes WeChat DevTools hands out; it accepts "dev:<openid>" and "dev:<phone>".
  // Leave both empty for real WeChat.
  //   devOpenid: 'demo-reception'  -> log in as the demo receptionist (员工工作台)
  //   devOpenid: 'owner-1'         -> a new owner
  devOpenid: '',
  //   devPhone: '13800000001'     -> "微信手机号快速验证" returns this number
  devPhone: '',
}
