await new Promise((resolve) => setTimeout(resolve, 10));
console.log(`hello from Node ${process.version}`);
