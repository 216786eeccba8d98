// `npm install`'s postinstall: when npm itself runs on a Node older than the project's (20 on many machines),
// it prints an EBADENGINE warning for every package that asks for a newer one. They do not matter here: the
// npm scripts run the Node 24 that this install put in node_modules/.bin. One line says so after them.
const npmNode = /\bnode\/v((\d+)\.\d+\.\d+)/.exec(process.env.npm_config_user_agent ?? '')
if (npmNode && Number(npmNode[2]) < 24) {
  process.stderr.write(
    `ctera-app: npm runs on Node ${npmNode[1]} here, so it warned EBADENGINE above; that is harmless: ` +
      `npm start, npm test and the other npm scripts run Node ${process.versions.node} from node_modules/.bin\n`,
  )
}
