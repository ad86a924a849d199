// Loaded before every test file: miniprogram-simulate defines Component() and a basic global wx;
// the helpers replace the wx APIs the pages use with recording fakes.
require('miniprogram-simulate')
